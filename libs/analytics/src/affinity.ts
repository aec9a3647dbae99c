/**
 * Category affinity (ARCHITECTURE §6): time-decayed interaction counts per category with a
 * half-life of 30 days, weighted view 1, add-to-cart 3, purchase 5, normalised to shares.
 *
 * Scores are kept relative to a reference time; adding an interaction first brings both to the
 * later of the two times. The result does not depend on the order interactions arrive in, and a
 * uniform decay leaves the shares unchanged, so shares only move when an interaction happens.
 */

export const AFFINITY_HALF_LIFE_DAYS = 30;
export const AFFINITY_WEIGHTS = { view: 1, cart: 3, purchase: 5 } as const;
export type AffinityInteraction = keyof typeof AFFINITY_WEIGHTS;

const DAY_MS = 86_400_000;

export interface AffinityScores {
  /** ISO time the scores are valued at. */
  ref: string;
  scores: Record<string, number>;
}

export function emptyAffinity(): AffinityScores {
  return { ref: new Date(0).toISOString(), scores: {} };
}

function decayFactor(fromMs: number, toMs: number, halfLifeDays: number): number {
  return Math.pow(2, -(toMs - fromMs) / (halfLifeDays * DAY_MS));
}

/** The scores valued at `at` (only ever moves forward in time). */
export function decayAffinity(state: AffinityScores, at: Date, halfLifeDays = AFFINITY_HALF_LIFE_DAYS): AffinityScores {
  const refMs = Date.parse(state.ref);
  if (at.getTime() <= refMs) return state;
  const factor = decayFactor(refMs, at.getTime(), halfLifeDays);
  const scores: Record<string, number> = {};
  for (const [category, score] of Object.entries(state.scores)) scores[category] = score * factor;
  return { ref: at.toISOString(), scores };
}

/** Adds one interaction with `category` at `at`; events older than the reference count decayed. */
export function addAffinity(state: AffinityScores, category: string, interaction: AffinityInteraction, at: Date, halfLifeDays = AFFINITY_HALF_LIFE_DAYS): AffinityScores {
  const next = decayAffinity(state, at, halfLifeDays);
  const weight = AFFINITY_WEIGHTS[interaction] * decayFactor(at.getTime(), Date.parse(next.ref), halfLifeDays);
  const scores = next === state ? { ...state.scores } : next.scores;
  scores[category] = (scores[category] ?? 0) + weight;
  return { ref: next.ref, scores };
}

/** Shares per category (sum 1), largest first; empty when there were no interactions. */
export function affinityShares(state: AffinityScores): Record<string, number> {
  const total = Object.values(state.scores).reduce((sum, score) => sum + score, 0);
  if (total <= 0) return {};
  const entries = Object.entries(state.scores).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return Object.fromEntries(entries.map(([category, score]) => [category, score / total]));
}

/** The category with the largest share and that share, or null. */
export function topCategory(state: AffinityScores): { category: string; share: number } | null {
  const shares = Object.entries(affinityShares(state));
  return shares.length === 0 ? null : { category: shares[0][0], share: shares[0][1] };
}
