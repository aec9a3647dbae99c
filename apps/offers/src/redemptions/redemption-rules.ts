import { createHash } from 'node:crypto';
import type { ApiErrorDetail } from '@segmenta/contracts';
import type { OfferBudget, OfferReward, PerCustomerLimit } from '../catalog/offer-rules';

/**
 * The arithmetic of a redemption — the money value of its reward, what it takes from the offer's
 * budget, the budget thresholds it crosses, the window of the per-customer limit, the fingerprint
 * of a request — as plain functions over plain data. No Nest, no I/O.
 */

/** An order's total in integer minor units of `currency`. */
export interface OrderAmount {
  amount: number;
  currency: string;
}

/** The reward's money value on one order; null value: the reward has none (or none is known). */
export interface RewardValue {
  value: number | null;
  currency: string | null;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: 409 | 422; message: string; details: ApiErrorDetail[] };

/** `percent` % of `amount`, rounded half up, computed exactly for percents with up to 4 decimals. */
export function percentOf(amount: number, percent: number): number {
  const scaled = BigInt(Math.round(percent * 10_000));
  return Number((BigInt(amount) * scaled + 500_000n) / 1_000_000n);
}

/**
 * What the reward is worth on this order: percent_off is that share of the order (rounded half up;
 * never more than the order); amount_off the fixed amount, capped at the order when one is given;
 * free shipping, points and gifts carry no money value here. A percent reward without an order
 * amount has no known value.
 */
export function rewardValue(reward: OfferReward, order: OrderAmount | undefined): Outcome<RewardValue> {
  switch (reward.type) {
    case 'percent_off':
      return { ok: true, value: order ? { value: Math.min(order.amount, percentOf(order.amount, reward.percent)), currency: order.currency } : { value: null, currency: null } };
    case 'amount_off':
      if (order && order.currency !== reward.currency)
        return {
          ok: false,
          status: 422,
          message: `The order is in ${order.currency}; this offer's reward is ${reward.amount} minor units of ${reward.currency}`,
          details: [{ field: 'orderAmount.currency', problem: `must be ${reward.currency}, the currency of the offer's reward` }],
        };
      return { ok: true, value: { value: order ? Math.min(order.amount, reward.amount) : reward.amount, currency: reward.currency } };
    default:
      return { ok: true, value: { value: null, currency: null } };
  }
}

/**
 * What one redemption takes from the budget: 1 of a budget of redemptions, the reward's value of a
 * money budget (which must then be known and in the budget's currency), nothing without a budget.
 */
export function budgetUnits(budget: OfferBudget, reward: OfferReward, value: RewardValue): Outcome<number> {
  if (budget.type === 'none') return { ok: true, value: 0 };
  if (budget.type === 'redemptions') return { ok: true, value: 1 };
  if (value.value === null) {
    if (reward.type === 'percent_off')
      return {
        ok: false,
        status: 422,
        message: `The offer has a budget of ${budget.amount} minor units of ${budget.currency}: a percent reward's value needs the order amount`,
        details: [{ field: 'orderAmount', problem: "is required: the reward is a percent of it and counts against the offer's money budget" }],
      };
    // Fail closed: a money budget that such redemptions could never use up would not limit anything.
    return {
      ok: false,
      status: 409,
      message: `The offer's reward (${reward.type}) has no money value to count against its budget of ${budget.amount} minor units of ${budget.currency}`,
      details: [{ field: 'offerKey', problem: `offer misconfigured: a ${reward.type} reward cannot use a money budget` }],
    };
  }
  if (value.currency !== budget.currency)
    return {
      ok: false,
      status: 422,
      message: `The reward's value is in ${value.currency}; the offer's budget is in ${budget.currency}`,
      details: [{ field: 'orderAmount.currency', problem: `must be ${budget.currency}, the currency of the offer's budget` }],
    };
  return { ok: true, value: value.value };
}

/** The earliest redemption time that counts against the limit at `now`: a rolling period, or null for ever. */
export function limitWindowStart(limit: PerCustomerLimit, now: Date): Date | null {
  return limit.periodDays === undefined ? null : new Date(now.getTime() - limit.periodDays * 86_400_000);
}

/** The fields of a redemption request that make it the same request again under its Idempotency-Key. */
export interface RedemptionRequestFields {
  offerKey: string;
  profileId: string;
  code?: string | null;
  orderId?: string | null;
  orderAmount?: OrderAmount | null;
}

/** SHA-256 of the request's fields in a fixed order: a retry with the same body has the same fingerprint. */
export function requestFingerprint(request: RedemptionRequestFields): string {
  const fields = [request.offerKey, request.profileId, request.code ?? null, request.orderId ?? null, request.orderAmount?.amount ?? null, request.orderAmount?.currency ?? null];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/** Idempotency keys: 1 to 200 visible ASCII characters (a UUID is typical). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** What is wrong with an Idempotency-Key header (null: nothing), for every route that takes one. */
export function idempotencyKeyProblem(key: string | undefined): ApiErrorDetail | null {
  if (key === undefined || key === '') return { field: 'Idempotency-Key', problem: 'header is required: a unique value per request, such as a UUID, sent again unchanged on a retry' };
  return IDEMPOTENCY_KEY.test(key) ? null : { field: 'Idempotency-Key', problem: 'must be 1 to 200 visible ASCII characters' };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a path id is a UUID (profile and redemption ids are). */
export const isUuid = (id: string) => UUID.test(id);
