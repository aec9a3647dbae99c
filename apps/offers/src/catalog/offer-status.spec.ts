import { OFFER_STATUSES, allowedTransitions, canTransition, type OfferStatus, scheduledMove } from './offer-status';

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

describe('scheduledMove', () => {
  const now = Date.parse('2030-11-27T12:00:00Z');
  const at = (iso: string) => Date.parse(iso);
  it.each([
    ['scheduled', at('2030-11-27T11:00:00Z'), null, 'active'],
    ['scheduled', at('2030-11-27T13:00:00Z'), null, null],
    ['scheduled', at('2030-11-27T11:00:00Z'), at('2030-11-27T12:00:00Z'), 'ended'],
    ['active', at('2030-11-01T00:00:00Z'), at('2030-11-27T11:59:59Z'), 'ended'],
    ['paused', at('2030-11-01T00:00:00Z'), at('2030-11-27T11:59:59Z'), 'ended'],
    ['active', at('2030-11-01T00:00:00Z'), at('2030-11-28T00:00:00Z'), null],
    ['draft', at('2030-11-01T00:00:00Z'), at('2030-11-02T00:00:00Z'), null],
    ['ended', at('2030-11-01T00:00:00Z'), at('2030-11-02T00:00:00Z'), null],
  ] as const)('%s from %d to %s: %s', (status, startsAt, endsAt, move) => {
    expect(scheduledMove({ status, startsAt, endsAt }, now)).toBe(move);
  });
});
