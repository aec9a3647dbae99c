import { propertyMatches } from '@segmenta/segment-rules';
import type { ExperimentMetric } from '../experiments/experiment-definition';

/**
 * What a customer's track event does to their value of an experiment's metric (issue 21), pure:
 * a conversion counts once (0 → 1) when its event, with its filters, comes within `days` after the
 * customer's first exposure; revenue adds `Order Completed` and takes away `Order Refunded` in that
 * window. Events after the experiment stopped count for nothing.
 */

const DAY_MS = 86_400_000;

export interface MetricEvent {
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

/** The customer's new value of the metric after the event; null when the event does not move it. */
export function metricValueAfter(metric: ExperimentMetric, exposedAt: Date, endedAt: Date | null, event: MetricEvent, current: number): number | null {
  const at = event.occurredAt.getTime();
  if (at < exposedAt.getTime() || at >= exposedAt.getTime() + metric.days * DAY_MS) return null;
  if (endedAt !== null && at > endedAt.getTime()) return null;
  switch (metric.type) {
    case 'conversion':
      if (event.name !== metric.event || current >= 1 || !metric.where.every((f) => propertyMatches(event.properties, f))) return null;
      return 1;
    case 'revenue': {
      if (event.name === 'Order Completed') return current + orderAmount(event.properties);
      if (event.name === 'Order Refunded') return current - orderAmount(event.properties);
      return null;
    }
    default:
      // Retention and redemption metrics are not computed from track events yet.
      return null;
  }
}
