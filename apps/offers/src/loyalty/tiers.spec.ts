import { qualifyingTier, rankOf, tierMove, type TierThreshold } from './tiers';

const tiers: TierThreshold[] = [
  { key: 'bronze', rank: 1, minPoints: 0, minSpend: null, spendCurrency: null },
  { key: 'silver', rank: 2, minPoints: 1000, minSpend: 500, spendCurrency: 'EUR' },
  { key: 'gold', rank: 3, minPoints: 5000, minSpend: null, spendCurrency: null },
];
const q = (points: number, eur = 0) => ({ points, spend: new Map([['EUR', eur]]) });

describe('tiers', () => {
  it('qualifies for the highest tier whose points or spend threshold is reached', () => {
    expect(qualifyingTier(tiers, q(0))?.key).toBe('bronze');
    expect(qualifyingTier(tiers, q(999, 499))?.key).toBe('bronze');
    expect(qualifyingTier(tiers, q(10, 500))?.key).toBe('silver');
    expect(qualifyingTier(tiers, q(5000))?.key).toBe('gold');
    expect(qualifyingTier([], q(5000))).toBeNull();
    expect(qualifyingTier([{ key: 'usd', rank: 1, minPoints: null, minSpend: 10, spendCurrency: 'USD' }], q(0, 1000))).toBeNull();
  });

  it('upgrades at once, lowers only at a review, and keeps a tier that still qualifies', () => {
    expect(tierMove(tiers, 'bronze', q(6000), false)).toEqual({ to: 'gold', changed: true });
    expect(tierMove(tiers, 'gold', q(1200), false)).toEqual({ to: 'gold', changed: false });
    expect(tierMove(tiers, 'gold', q(1200), true)).toEqual({ to: 'silver', changed: true });
    expect(tierMove(tiers, 'silver', q(1200), true)).toEqual({ to: 'silver', changed: false });
    // A deleted tier ranks below every tier: the customer moves to what they qualify for.
    expect(rankOf(tiers, 'platinum')).toBe(-1);
    expect(tierMove(tiers, 'platinum', q(0), false)).toEqual({ to: 'bronze', changed: true });
    expect(tierMove([], 'gold', q(0), true)).toEqual({ to: null, changed: true });
  });
});
