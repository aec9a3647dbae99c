import type { ExperimentMetric } from '../experiments/experiment-definition';
import { metricValueAfter, orderAmount } from './metric-values';

describe('metricValueAfter', () => {
  const exposedAt = new Date('2026-12-01T10:00:00Z');
  const at = (hours: number) => new Date(exposedAt.getTime() + hours * 3_600_000);
  const conversion: ExperimentMetric = {
    key: 'orders',
    type: 'conversion',
    event: 'Order Completed',
    where: [{ property: 'category', op: 'eq', value: 'cameras' }],
    days: 7,
    guardrail: false,
    goodDirection: 'up',
  };
  const revenue: ExperimentMetric = { key: 'revenue', type: 'revenue', event: null, where: [], days: 14, guardrail: false, goodDirection: 'up' };

  it('counts a conversion once, with its filters, inside the window after exposure', () => {
    const event = (hours: number, category = 'cameras') => ({ name: 'Order Completed', properties: { category }, occurredAt: at(hours) });
    expect(metricValueAfter(conversion, exposedAt, null, event(1), 0)).toBe(1);
    expect(metricValueAfter(conversion, exposedAt, null, event(1), 1)).toBeNull();
    expect(metricValueAfter(conversion, exposedAt, null, event(1, 'books'), 0)).toBeNull();
    expect(metricValueAfter(conversion, exposedAt, null, event(-1), 0)).toBeNull();
    expect(metricValueAfter(conversion, exposedAt, null, event(7 * 24), 0)).toBeNull();
    expect(metricValueAfter(conversion, exposedAt, at(2), event(3), 0)).toBeNull();
  });

  it('adds orders and takes away refunds for revenue', () => {
    expect(metricValueAfter(revenue, exposedAt, null, { name: 'Order Completed', properties: { revenue: 120.5 }, occurredAt: at(5) }, 10)).toBe(130.5);
    expect(metricValueAfter(revenue, exposedAt, null, { name: 'Order Refunded', properties: { total: '20' }, occurredAt: at(6) }, 130.5)).toBe(110.5);
    expect(metricValueAfter(revenue, exposedAt, null, { name: 'Product Viewed', properties: {}, occurredAt: at(6) }, 5)).toBeNull();
  });

  it('reads an order’s amount as revenue, else total, else subtotal', () => {
    expect(orderAmount({ revenue: 10, total: 12 })).toBe(10);
    expect(orderAmount({ total: '12.5' })).toBe(12.5);
    expect(orderAmount({ subtotal: 9 })).toBe(9);
    expect(orderAmount({ revenue: 'n/a' })).toBe(0);
  });
});
