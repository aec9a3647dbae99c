import { propertyMatches } from '@segmenta/segment-rules';
import { RETENTION_WINDOW_DAYS, type ExperimentMetric } from '../experiments/experiment-definition';

/**
 * What a customer's event does to their value of an experiment's metric (issue 21), pure:
 * - a conversion counts once (0 → 1) when its track event, with its filters, comes within `days`
 *   after the customer's first exposure;
 * - revenue adds `Order Completed` and takes away `Order Refunded` in that window;
 * - net revenue also takes away the money value of the rewards the customer redeemed (issue 22):
 *   what the programme earned after paying for its discounts;
 * - retention counts once when the customer is active (any track event, or the metric's event)
 *   in the `windowDays` from day `days` after exposure;
 * - redemption counts once when they redeem an offer (offers.redeemed, with its filters) in the window.
 * Events after the experiment stopped count for nothing.
 */

const DAY_MS = 86_400_000;

export interface MetricEvent {
  /** A track event (profiles.activity) or an offer redemption (offers.redeemed). */
  kind: 'track' | 'redemption';
  name: string;
  properties: Record<string, unknown>;
  occurredAt: Date;
}

/** An order's money as Segment's e-commerce spec gives it: revenue, else total, else subtotal (currency units). */
export function orderAmount(properties: Record<string, unknown>): number {
  for (const field of ['revenue', 'total', 'subtotal']) {
    const value = properties[field];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  return 0;
}

/**
 * What a redemption's reward cost, in currency units like order amounts: offers gives `rewardValue`
 * in minor units of `rewardCurrency` (cents; none for yen). 0 for rewards without a money value.
 */
export function rewardCost(properties: Record<string, unknown>): number {
  const value = properties.rewardValue;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return value / 10 ** minorUnitDigits(typeof properties.rewardCurrency === 'string' ? properties.rewardCurrency : null);
}

const digitsByCurrency = new Map<string, number>();
function minorUnitDigits(currency: string | null): number {
  if (currency === null) return 2;
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

/** The customer's new value of the metric after the event; null when the event does not move it. */
export function metricValueAfter(metric: ExperimentMetric, exposedAt: Date, endedAt: Date | null, event: MetricEvent, current: number): number | null {
  const at = event.occurredAt.getTime();
  if (endedAt !== null && at > endedAt.getTime()) return null;
  // Retention's window starts on day N; the others' at exposure.
  const from = exposedAt.getTime() + (metric.type === 'retention' ? metric.days * DAY_MS : 0);
  const length = metric.type === 'retention' ? (metric.windowDays ?? RETENTION_WINDOW_DAYS) : metric.days;
  if (at < from || at >= from + length * DAY_MS) return null;
  const matches = () => metric.where.every((f) => propertyMatches(event.properties, f));
  if (event.kind === 'redemption') {
    if (metric.type === 'net_revenue') return rewardCost(event.properties) === 0 ? null : current - rewardCost(event.properties);
    return metric.type === 'redemption' && current < 1 && matches() ? 1 : null;
  }
  switch (metric.type) {
    case 'conversion':
      return event.name === metric.event && current < 1 && matches() ? 1 : null;
    case 'retention':
      return (metric.event === null || event.name === metric.event) && current < 1 && matches() ? 1 : null;
    case 'revenue':
    case 'net_revenue':
      if (event.name === 'Order Completed') return current + orderAmount(event.properties);
      if (event.name === 'Order Refunded') return current - orderAmount(event.properties);
      return null;
    case 'redemption':
      return null;
  }
}

/** One customer's value of a metric when two profiles exposed to the same variant turn out to be one customer (a merge): revenue adds up, the others are 0/1. */
export function mergedMetricValue(metric: Pick<ExperimentMetric, 'type'>, a: number, b: number): number {
  return metric.type === 'revenue' || metric.type === 'net_revenue' ? a + b : Math.max(a, b);
}
