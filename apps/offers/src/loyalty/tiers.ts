/** A tier's threshold as qualification reads it. */
export interface TierThreshold {
  key: string;
  rank: number;
  /** Points earned in the window (null: not by points). */
  minPoints: number | null;
  /** Spend in the window in `spendCurrency` (null: not by spend). */
  minSpend: number | null;
  spendCurrency: string | null;
}

/** What a customer earned and spent in the rolling window. */
export interface Qualification {
  points: number;
  spend: ReadonlyMap<string, number>;
}

/** The highest-ranked tier whose points or spend threshold the customer reaches (null: none). */
export function qualifyingTier(tiers: readonly TierThreshold[], q: Qualification): TierThreshold | null {
  let best: TierThreshold | null = null;
  for (const tier of tiers) {
    const byPoints = tier.minPoints !== null && q.points >= tier.minPoints;
    const bySpend = tier.minSpend !== null && tier.spendCurrency !== null && (q.spend.get(tier.spendCurrency) ?? 0) >= tier.minSpend;
    if ((byPoints || bySpend) && (best === null || tier.rank > best.rank)) best = tier;
  }
  return best;
}

/** The rank of a tier key among `tiers` (-1: none or unknown: a deleted tier ranks below every tier). */
export const rankOf = (tiers: readonly TierThreshold[], key: string | null): number => (key === null ? -1 : (tiers.find((t) => t.key === key)?.rank ?? -1));

/**
 * What happens to a held tier: an upgrade at once when a higher tier qualifies; at a review
 * (review date plus grace passed) a lower one — or none — if the held tier no longer qualifies,
 * else the tier is kept until the next review.
 */
export function tierMove(tiers: readonly TierThreshold[], held: string | null, q: Qualification, reviewDue: boolean): { to: string | null; changed: boolean } {
  const qualifying = qualifyingTier(tiers, q);
  const qualifyingRank = qualifying?.rank ?? -1;
  const heldRank = rankOf(tiers, held);
  if (qualifyingRank > heldRank) return { to: qualifying?.key ?? null, changed: true };
  // A held tier that was deleted (ranked -1) gives way at the review to what the customer qualifies for, if anything.
  if (reviewDue && (qualifyingRank < heldRank || (held !== null && heldRank === -1 && qualifying?.key !== held))) return { to: qualifying?.key ?? null, changed: true };
  return { to: held, changed: false };
}
