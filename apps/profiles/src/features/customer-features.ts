import {
  addAffinity,
  affinityShares,
  emptyAffinity,
  lifecycleStage,
  scoreHigherIsBetter,
  scoreLowerIsBetter,
  toMinorUnits,
  topCategory,
  type AffinityScores,
  type LifecycleStage,
  type QuintileCuts,
} from '@segmenta/analytics';
import { modelFeatures, type ClvSettings, type CustomerModels } from './customer-models';

/** The part of an event the features read. */
export interface FeatureEvent {
  /** The event's id: orders without an order_id are kept under it. */
  id?: string;
  type: string;
  name: string | null;
  properties: Record<string, unknown>;
  occurredAt: Date;
}

/**
 * One order as its events tell it, by order id: when and for how much it was completed, and what was
 * refunded or whether it was cancelled. Amounts are minor units of `currency` (the base currency
 * when a rate converts it). Refunds may arrive before their order; they wait here for it.
 */
export interface LedgerEntry {
  at?: string;
  /** Null: the order carried no amount. */
  value?: number | null;
  currency?: string;
  refunded?: number;
  /** Refunded without an amount or products: the whole order. */
  refundedAll?: boolean;
  cancelled?: boolean;
  /** A stand-in for revenue stored before the ledger: counts as revenue, not as an order. */
  revenueOnly?: boolean;
}

/** What is accumulated per profile; every derived feature is a function of it and the clock. */
export interface FeatureAccumulator {
  firstSeen: Date | null;
  lastSeen: Date | null;
  eventCount: number;
  /** Orders kept (not cancelled, not fully refunded, worth more than 0), from `orderLedger`. */
  orders: number;
  /** Minor units of the base currency. */
  revenue: number;
  /** Minor units per currency for orders with no configured rate. */
  revenueOther: Record<string, number>;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
  categoryScores: AffinityScores;
  /** Every order by id (orders without one by time and amount); orders, revenue and order dates follow from it. */
  orderLedger: Record<string, LedgerEntry>;
}

export interface MoneySettings {
  baseCurrency: string;
  /** Units of base currency per unit of the key currency. */
  fxRates: Record<string, number>;
}

export interface RfmCuts {
  recency: QuintileCuts;
  frequency: QuintileCuts;
  monetary: QuintileCuts;
}

/** The feature columns of `profile_features` (ARCHITECTURE §4). */
export interface CustomerFeatures extends FeatureAccumulator {
  currency: string;
  aov: number | null;
  recencyDays: number | null;
  tenureDays: number | null;
  rfmR: number | null;
  rfmF: number | null;
  rfmM: number | null;
  pAlive: number | null;
  expectedOrders90d: number | null;
  clv: number | null;
  churnRisk: number | null;
  lifecycleStage: LifecycleStage;
  categoryAffinity: Record<string, number>;
  topCategory: string | null;
  topCategoryShare: number | null;
}

/** Segment e-commerce spec v2 event names. */
export const ECOMMERCE_EVENTS = { viewed: 'Product Viewed', added: 'Product Added', orderCompleted: 'Order Completed', orderRefunded: 'Order Refunded', orderCancelled: 'Order Cancelled' } as const;

export function emptyAccumulator(): FeatureAccumulator {
  return { firstSeen: null, lastSeen: null, eventCount: 0, orders: 0, revenue: 0, revenueOther: {}, firstOrderAt: null, lastOrderAt: null, categoryScores: emptyAffinity(), orderLedger: {} };
}

const minDate = (a: Date | null, b: Date) => (a && a <= b ? a : b);
const maxDate = (a: Date | null, b: Date) => (a && a >= b ? a : b);

function finite(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

function category(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().toLowerCase() : null;
}

function products(properties: Record<string, unknown>): Array<Record<string, unknown>> {
  return Array.isArray(properties.products) ? (properties.products.filter((p) => p && typeof p === 'object') as Array<Record<string, unknown>>) : [];
}

function orderId(properties: Record<string, unknown>): string | null {
  const id = properties.order_id ?? properties.orderId;
  return typeof id === 'string' && id.trim() !== '' ? id.trim() : typeof id === 'number' ? String(id) : null;
}

/**
 * An order's value in major units: `revenue` (Segment: excluding shipping and tax), else `total`,
 * else the sum of its products' price × quantity; null when none is given.
 */
export function orderValue(properties: Record<string, unknown>): number | null {
  const revenue = finite(properties.revenue) ?? finite(properties.total);
  if (revenue !== null) return revenue;
  const lines = products(properties);
  if (lines.length === 0) return null;
  return lines.reduce((sum, p) => sum + (finite(p.price) ?? 0) * (finite(p.quantity) ?? 1), 0);
}

/** A refund's amount in major units: `total` or `revenue`, else its products' price × quantity; null when it names neither (the whole order). */
export function refundValue(properties: Record<string, unknown>): number | null {
  const amount = finite(properties.total) ?? finite(properties.revenue);
  if (amount !== null) return Math.abs(amount);
  const lines = products(properties);
  if (lines.length === 0) return null;
  return lines.reduce((sum, p) => sum + Math.abs((finite(p.price) ?? 0) * (finite(p.quantity) ?? 1)), 0);
}

/** Where an amount is kept: minor units of the base currency when a rate converts it, else of its own currency. */
function inMinorUnits(value: number, props: Record<string, unknown>, money: MoneySettings): { amount: number; currency: string } {
  const currency = typeof props.currency === 'string' && /^[A-Za-z]{3}$/.test(props.currency) ? props.currency.toUpperCase() : money.baseCurrency;
  const rate = currency === money.baseCurrency ? 1 : money.fxRates[currency];
  return rate !== undefined ? { amount: toMinorUnits(value * rate, money.baseCurrency), currency: money.baseCurrency } : { amount: toMinorUnits(value, currency), currency };
}

/**
 * Orders, revenue and order dates from the ledger: an order counts when it was completed, is not
 * cancelled or wholly refunded, and is worth more than 0 after refunds (or carried no amount).
 */
function settleOrders(acc: FeatureAccumulator, money: MoneySettings): FeatureAccumulator {
  let orders = 0;
  let revenue = 0;
  const revenueOther: Record<string, number> = {};
  let first: Date | null = null;
  let last: Date | null = null;
  for (const entry of Object.values(acc.orderLedger)) {
    if (!entry.at || entry.cancelled || entry.refundedAll) continue;
    const kept = entry.value === null || entry.value === undefined ? null : Math.max(0, entry.value - (entry.refunded ?? 0));
    if (kept === 0) continue;
    if (!entry.revenueOnly) {
      orders += 1;
      const at = new Date(entry.at);
      first = minDate(first, at);
      last = maxDate(last, at);
    }
    if (kept === null) continue;
    const currency = entry.currency ?? money.baseCurrency;
    if (currency === money.baseCurrency) revenue += kept;
    else revenueOther[currency] = (revenueOther[currency] ?? 0) + kept;
  }
  return { ...acc, orders, revenue, revenueOther, firstOrderAt: first, lastOrderAt: last };
}

/**
 * Profiles stored before the ledger existed have counters but no entries: stand-in entries keep
 * their orders, revenue and order dates until a full recompute rebuilds the ledger from the events.
 */
function withLedger(acc: FeatureAccumulator): Record<string, LedgerEntry> {
  if (Object.keys(acc.orderLedger).length > 0 || acc.orders <= 0 || !acc.firstOrderAt || !acc.lastOrderAt) return acc.orderLedger;
  const ledger: Record<string, LedgerEntry> = {};
  const share = Math.floor(acc.revenue / acc.orders);
  for (let i = 0; i < acc.orders; i += 1) ledger[`legacy-${i}`] = { at: (i === 0 ? acc.firstOrderAt : acc.lastOrderAt).toISOString(), value: i === 0 ? acc.revenue - share * (acc.orders - 1) : share };
  for (const [currency, amount] of Object.entries(acc.revenueOther)) ledger[`legacy-${currency}`] = { at: acc.firstOrderAt.toISOString(), value: amount, currency, revenueOnly: true };
  return ledger;
}

/**
 * Adds one event. Every field is a sum, a min/max or a decayed sum with a moving reference, so the
 * result does not depend on the order events arrive in: applying a merged profile's events in any
 * order gives the same features.
 */
export function applyEvent(acc: FeatureAccumulator, event: FeatureEvent, money: MoneySettings): FeatureAccumulator {
  const next: FeatureAccumulator = {
    ...acc,
    firstSeen: minDate(acc.firstSeen, event.occurredAt),
    lastSeen: maxDate(acc.lastSeen, event.occurredAt),
    eventCount: acc.eventCount + 1,
  };
  if (event.type !== 'track') return next;
  const props = event.properties ?? {};
  if (event.name === ECOMMERCE_EVENTS.viewed || event.name === ECOMMERCE_EVENTS.added) {
    const cat = category(props.category);
    if (cat) next.categoryScores = addAffinity(acc.categoryScores, cat, event.name === ECOMMERCE_EVENTS.viewed ? 'view' : 'cart', event.occurredAt);
  } else if (event.name === ECOMMERCE_EVENTS.orderRefunded || event.name === ECOMMERCE_EVENTS.orderCancelled) {
    const id = orderId(props);
    if (id === null) return next; // nothing to match it to
    const ledger = withLedger(acc);
    const entry = { ...ledger[id] };
    if (event.name === ECOMMERCE_EVENTS.orderCancelled) entry.cancelled = true;
    else {
      const value = refundValue(props);
      if (value === null) entry.refundedAll = true;
      else {
        const { amount, currency } = inMinorUnits(value, props, money);
        entry.refunded = (entry.refunded ?? 0) + amount;
        entry.currency ??= currency;
      }
    }
    return settleOrders({ ...next, orderLedger: { ...ledger, [id]: entry } }, money);
  } else if (event.name === ECOMMERCE_EVENTS.orderCompleted) {
    const value = orderValue(props);
    const kept = value === null ? null : inMinorUnits(value, props, money);
    // Without an order id an order is known by its event (a redelivery is the same order), else by its time and amount.
    const id = orderId(props) ?? (event.id ? `@${event.id}` : `@${event.occurredAt.toISOString()}/${kept?.amount ?? ''}`);
    const ledger = withLedger(acc);
    const entry: LedgerEntry = { ...ledger[id], at: event.occurredAt.toISOString(), value: kept?.amount ?? null };
    if (kept) entry.currency = kept.currency;
    Object.assign(next, settleOrders({ ...next, orderLedger: { ...ledger, [id]: entry } }, money));
    let scores = acc.categoryScores;
    for (const product of products(props)) {
      const cat = category(product.category);
      if (cat) scores = addAffinity(scores, cat, 'purchase', event.occurredAt);
    }
    next.categoryScores = scores;
  }
  return next;
}

const DAY_MS = 86_400_000;
const wholeDays = (from: Date, to: Date) => Math.max(0, Math.floor((to.getTime() - from.getTime()) / DAY_MS));

/** Everything that follows from the accumulator, the clock, the population's RFM cut points and the fitted customer models. */
export function deriveFeatures(
  acc: FeatureAccumulator,
  now: Date,
  cuts: RfmCuts | null,
  money: MoneySettings,
  stored: { pAlive?: number | null; expectedOrders90d?: number | null; clv?: number | null } = {},
  fitted: { models: CustomerModels; clv: ClvSettings } | null = null,
): CustomerFeatures {
  const recencyDays = acc.lastOrderAt ? wholeDays(acc.lastOrderAt, now) : null;
  const top = topCategory(acc.categoryScores);
  // With fitted models the values follow the customer's history and the clock; without, the stored ones stay.
  const model = (fitted && modelFeatures(acc, now, fitted.models, fitted.clv)) ?? stored;
  const pAlive = model.pAlive ?? null;
  return {
    ...acc,
    currency: money.baseCurrency,
    aov: acc.orders > 0 ? Math.round(acc.revenue / acc.orders) : null,
    recencyDays,
    tenureDays: acc.firstSeen ? wholeDays(acc.firstSeen, now) : null,
    rfmR: cuts && recencyDays !== null ? scoreLowerIsBetter(recencyDays, cuts.recency) : null,
    rfmF: cuts && acc.orders > 0 ? scoreHigherIsBetter(acc.orders, cuts.frequency) : null,
    rfmM: cuts && acc.orders > 0 ? scoreHigherIsBetter(acc.revenue, cuts.monetary) : null,
    pAlive,
    expectedOrders90d: model.expectedOrders90d ?? null,
    clv: model.clv ?? null,
    churnRisk: pAlive === null ? null : 1 - pAlive,
    lifecycleStage: lifecycleStage({ orders: acc.orders, firstOrderAt: acc.firstOrderAt, lastOrderAt: acc.lastOrderAt, lastSeen: acc.lastSeen, pAlive }, now),
    categoryAffinity: affinityShares(acc.categoryScores),
    topCategory: top?.category ?? null,
    topCategoryShare: top?.share ?? null,
  };
}

/** The feature values as published and read by rules (JSON: dates as ISO strings; internals left out). */
export function publicFeatures(features: CustomerFeatures): Record<string, unknown> {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    first_seen: iso(features.firstSeen),
    last_seen: iso(features.lastSeen),
    event_count: features.eventCount,
    orders: features.orders,
    revenue: features.revenue,
    currency: features.currency,
    revenue_other: features.revenueOther,
    first_order_at: iso(features.firstOrderAt),
    last_order_at: iso(features.lastOrderAt),
    aov: features.aov,
    recency_days: features.recencyDays,
    tenure_days: features.tenureDays,
    rfm_r: features.rfmR,
    rfm_f: features.rfmF,
    rfm_m: features.rfmM,
    p_alive: features.pAlive,
    expected_orders_90d: features.expectedOrders90d,
    clv: features.clv,
    churn_risk: features.churnRisk,
    lifecycle_stage: features.lifecycleStage,
    category_affinity: features.categoryAffinity,
    top_category: features.topCategory,
    top_category_share: features.topCategoryShare,
  };
}

/**
 * Whether two JSON values are the same: objects whatever their key order (jsonb reorders keys),
 * numbers to a relative 1e-6, the precision of the `real` columns they come back from.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Keys whose values differ (see sameValue), with the new values. */
export function changedValues(before: Record<string, unknown> | null, after: Record<string, unknown>): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) if (!before || !sameValue(before[key], value)) changed[key] = value;
  return changed;
}
