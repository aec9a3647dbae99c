import { lifecycleSegmentKey, tierMembershipKey, type OfferEligibility, type OfferReward, type PerCustomerLimit } from '../catalog/offer-rules';
import { limitWindowStart, percentOf } from '../redemptions/redemption-rules';

/**
 * What the personalized offers API decides per customer — what a reward is worth to them, the
 * order offers are shown in, why each applies, whether they used it up — as plain functions over
 * plain data. No Nest, no I/O.
 */

/** The money values a reward is measured in, minor units of the shop's base currency. */
export interface RewardValuation {
  /** The customer's average order value (the feature aov); null when unknown. */
  averageOrderValue: number | null;
  /** The order value assumed when the customer's is unknown (a visitor, a first order). */
  defaultOrderValue: number;
  /** What one loyalty point is worth. */
  pointValue: number;
  /** What free shipping saves on an order. */
  freeShippingValue: number;
}

/**
 * What a reward is worth to one customer on their next order, in minor units: percent_off is that
 * share of their average order value (the default one when unknown); amount_off the fixed amount;
 * free_shipping the configured shipping value; bonus_points the points at the configured point
 * value; points_multiplier the extra points on an average order at one point per major unit
 * (loyalty's earn rules do not exist yet); a gift has no known value (0: its priority ranks it).
 */
export function rewardMoneyValue(reward: OfferReward, valuation: RewardValuation): number {
  const orderValue = valuation.averageOrderValue !== null && valuation.averageOrderValue > 0 ? Math.round(valuation.averageOrderValue) : valuation.defaultOrderValue;
  switch (reward.type) {
    case 'percent_off':
      return percentOf(orderValue, reward.percent);
    case 'amount_off':
      return reward.amount;
    case 'free_shipping':
      return valuation.freeShippingValue;
    case 'bonus_points':
      return reward.points * valuation.pointValue;
    case 'points_multiplier':
      return Math.round((reward.multiplier - 1) * Math.floor(orderValue / 100) * valuation.pointValue);
    case 'gift':
      return 0;
  }
}

/** The reward's value weighted by the chance the customer redeems it (a propensity in [0, 1]); the value itself when no score is known. */
export function expectedValue(rewardValue: number, redemptionPropensity: number | null | undefined): number {
  if (redemptionPropensity === null || redemptionPropensity === undefined || !Number.isFinite(redemptionPropensity)) return rewardValue;
  return rewardValue * Math.min(1, Math.max(0, redemptionPropensity));
}

export interface Rankable {
  key: string;
  priority: number;
  expectedValue: number;
}

/** Highest priority first, then highest expected value, then key (a stable order for equal offers). Returns a new array. */
export function rankOffers<T extends Rankable>(offers: readonly T[]): T[] {
  return [...offers].sort((a, b) => b.priority - a.priority || b.expectedValue - a.expectedValue || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Whether the customer has used up the offer: as many non-cancelled redemptions as the limit
 * allows within its rolling period (ever, without one). No limit: never.
 */
export function usedUp(limit: PerCustomerLimit | null, redeemedAt: readonly Date[], now: Date): boolean {
  if (limit === null) return false;
  const since = limitWindowStart(limit, now);
  const uses = since === null ? redeemedAt.length : redeemedAt.filter((at) => at.getTime() >= since.getTime()).length;
  return uses >= limit.count;
}

/** An eligibility that names nobody in particular: no segments, stages or tiers. */
export const isForEveryone = (eligibility: OfferEligibility): boolean =>
  eligibility.segments === undefined && (eligibility.lifecycleStages ?? []).length === 0 && (eligibility.tiers ?? []).length === 0;

/** `at_risk` → `at risk`: how a loyalty team says it. */
export const stageInWords = (stage: string) => stage.replace(/_/g, ' ');

/**
 * Why an eligible customer gets the offer, in words a loyalty team recognises: the segments of
 * anyOf and allOf they are a member of ("member of camera-intent"), the segments noneOf excludes
 * ("not a member of fraud-watch"), their lifecycle stage ("lifecycle stage at risk"), their
 * loyalty tier ("tier Gold"), or "everyone". A segment is named by its name where known, else by its key.
 */
export function offerReasons(
  eligibility: OfferEligibility,
  memberOf: Readonly<Record<string, boolean>>,
  segmentNames: Readonly<Record<string, string>> = {},
  tierNames: Readonly<Record<string, string>> = {},
): string[] {
  if (isForEveryone(eligibility)) return ['everyone'];
  const name = (key: string) => segmentNames[key] ?? key;
  const member = (key: string) => memberOf[key] === true;
  const { anyOf = [], allOf = [], noneOf = [] } = eligibility.segments ?? {};
  const reasons = [
    ...[...anyOf, ...allOf].filter(member).map((key) => `member of ${name(key)}`),
    ...noneOf.filter((key) => !member(key)).map((key) => `not a member of ${name(key)}`),
    ...(eligibility.lifecycleStages ?? []).filter((stage) => member(lifecycleSegmentKey(stage))).map((stage) => `lifecycle stage ${stageInWords(stage)}`),
    ...(eligibility.tiers ?? []).filter((tier) => member(tierMembershipKey(tier))).map((tier) => `tier ${tierNames[tier] ?? tier}`),
  ];
  return [...new Set(reasons)];
}
