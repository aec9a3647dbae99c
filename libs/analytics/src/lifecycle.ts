/**
 * Lifecycle stage (ARCHITECTURE §6). Until the BTYD models provide P(alive) (a later issue), the
 * stage comes from order counts and recency alone; when `pAlive` is given it takes part as well.
 */

export const LIFECYCLE_STAGES = ['prospect', 'new', 'active', 'loyal', 'at_risk', 'lapsed'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

export interface LifecycleInput {
  orders: number;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
  /** Last activity of any kind. */
  lastSeen: Date | null;
  pAlive?: number | null;
}

export interface LifecycleOptions {
  /** A first order this recent makes a customer "new". */
  newDays: number;
  /** No activity for this long makes a customer "lapsed". */
  lapsedDays: number;
  /** Typical gap between orders assumed for one-order customers. */
  defaultGapDays: number;
  /** at_risk when the time since the last order exceeds this many typical gaps. */
  atRiskGaps: number;
  /** P(alive) below this: lapsed; below `atRiskPAlive`: at_risk; at least `loyalPAlive`: may be loyal. */
  lapsedPAlive: number;
  atRiskPAlive: number;
  loyalPAlive: number;
}

export const DEFAULT_LIFECYCLE_OPTIONS: LifecycleOptions = {
  newDays: 30,
  lapsedDays: 180,
  defaultGapDays: 60,
  atRiskGaps: 2,
  lapsedPAlive: 0.2,
  atRiskPAlive: 0.5,
  loyalPAlive: 0.7,
};

const DAY_MS = 86_400_000;
const daysBetween = (from: Date, to: Date) => (to.getTime() - from.getTime()) / DAY_MS;

/** The customer's average gap between orders in days, or null with fewer than two orders. */
export function typicalOrderGapDays(input: Pick<LifecycleInput, 'orders' | 'firstOrderAt' | 'lastOrderAt'>): number | null {
  if (input.orders < 2 || !input.firstOrderAt || !input.lastOrderAt) return null;
  return daysBetween(input.firstOrderAt, input.lastOrderAt) / (input.orders - 1);
}

/**
 * prospect: no order. lapsed: P(alive) < 0.2 or no activity in 180 days. new: first order within
 * 30 days. at_risk: P(alive) < 0.5 or time since the last order beyond twice the customer's
 * typical gap. loyal: repeat buyer (P(alive) high when known). active: everyone else.
 */
export function lifecycleStage(input: LifecycleInput, now: Date, options: LifecycleOptions = DEFAULT_LIFECYCLE_OPTIONS): LifecycleStage {
  if (input.orders <= 0 || !input.lastOrderAt || !input.firstOrderAt) return 'prospect';
  const pAlive = input.pAlive ?? null;
  const lastActivity = input.lastSeen && input.lastSeen > input.lastOrderAt ? input.lastSeen : input.lastOrderAt;
  if ((pAlive !== null && pAlive < options.lapsedPAlive) || daysBetween(lastActivity, now) > options.lapsedDays) return 'lapsed';
  if (daysBetween(input.firstOrderAt, now) <= options.newDays) return 'new';
  // Gaps shorter than a week would flag weekly shoppers after a fortnight; floor the gap.
  const gap = Math.max(typicalOrderGapDays(input) ?? options.defaultGapDays, 7);
  if ((pAlive !== null && pAlive < options.atRiskPAlive) || daysBetween(input.lastOrderAt, now) > options.atRiskGaps * gap) return 'at_risk';
  if (input.orders >= 2 && (pAlive === null || pAlive >= options.loyalPAlive)) return 'loyal';
  return 'active';
}
