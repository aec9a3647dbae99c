import { OFFER_STATUSES, allowedTransitions, canTransition, type OfferStatus } from './offer-status';

describe('offer status transitions', () => {
  const allowed: Array<[OfferStatus, OfferStatus[]]> = [
    ['draft', ['scheduled', 'active']],
    ['scheduled', ['draft', 'active', 'paused', 'ended']],
    ['active', ['paused', 'ended']],
    ['paused', ['active', 'ended']],
    ['ended', []],
  ];

  it.each(allowed)('%s may move to exactly %j', (from, targets) => {
    expect([...allowedTransitions(from)].sort()).toEqual([...targets].sort());
    for (const to of OFFER_STATUSES) expect(canTransition(from, to)).toBe(targets.includes(to));
  });

  it('never allows staying in place or leaving ended', () => {
    for (const status of OFFER_STATUSES) expect(canTransition(status, status)).toBe(false);
    expect(OFFER_STATUSES.some((to) => canTransition('ended', to))).toBe(false);
  });

  it('never goes back to draft once served (active or paused)', () => {
    expect(canTransition('active', 'draft')).toBe(false);
    expect(canTransition('paused', 'draft')).toBe(false);
    expect(canTransition('paused', 'scheduled')).toBe(false);
  });
});
