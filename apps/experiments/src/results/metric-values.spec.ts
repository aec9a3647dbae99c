import type { ExperimentMetric } from '../experiments/experiment-definition';
import { mergedMetricValue, metricValueAfter, orderAmount, rewardCost } from './metric-values';

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
    const event = (hours: number, category = 'cameras') => ({ kind: 'track' as const, name: 'Order Completed', properties: { category }, occurredAt: at(hours) });
    expect(metricValueAfter(conversion, exposedAt, null, event(1), 0)).toBe(1);
    expect(metricValueAfter(conversion, exposedAt, null, event(1), 1)).toBeNull();
    expect(metricValueAfter(conversion, exposedAt, null, event(1, 'books'), 0)).toBeNull();
    expect(metricValueAfter(conversion, exposedAt, null, event(-1), 0)).toBeNull();
    expect(metricValueAfter(conversion, exposedAt, null, event(7 * 24), 0)).toBeNull();
    expect(metricValueAfter(conversion, exposedAt, at(2), event(3), 0)).toBeNull();
  });

  it('adds orders and takes away refunds for revenue', () => {
    expect(metricValueAfter(revenue, exposedAt, null, { kind: 'track', name: 'Order Completed', properties: { revenue: 120.5 }, occurredAt: at(5) }, 10)).toBe(130.5);
    expect(metricValueAfter(revenue, exposedAt, null, { kind: 'track', name: 'Order Refunded', properties: { total: '20' }, occurredAt: at(6) }, 130.5)).toBe(110.5);
    expect(metricValueAfter(revenue, exposedAt, null, { kind: 'track', name: 'Product Viewed', properties: {}, occurredAt: at(6) }, 5)).toBeNull();
  });

  it('reads an order’s amount as revenue, else total, else subtotal', () => {
    expect(orderAmount({ revenue: 10, total: 12 })).toBe(10);
    expect(orderAmount({ total: '12.5' })).toBe(12.5);
    expect(orderAmount({ subtotal: 9 })).toBe(9);
    expect(orderAmount({ revenue: 'n/a' })).toBe(0);
  });

  it('counts retention once when the customer is active in the window from day N after exposure', () => {
    const retention: ExperimentMetric = { key: 'week2', type: 'retention', event: null, where: [], days: 7, windowDays: 7, guardrail: false, goodDirection: 'up' };
    const active = (hours: number, name = 'Product Viewed') => ({ kind: 'track' as const, name, properties: {}, occurredAt: at(hours) });
    expect(metricValueAfter(retention, exposedAt, null, active(2), 0)).toBeNull();
    expect(metricValueAfter(retention, exposedAt, null, active(7 * 24 - 1), 0)).toBeNull();
    expect(metricValueAfter(retention, exposedAt, null, active(7 * 24), 0)).toBe(1);
    expect(metricValueAfter(retention, exposedAt, null, active(14 * 24 - 1), 0)).toBe(1);
    expect(metricValueAfter(retention, exposedAt, null, active(14 * 24), 0)).toBeNull();
    expect(metricValueAfter(retention, exposedAt, null, active(8 * 24), 1)).toBeNull();
    // Only the named event counts as active when one is named; a redemption is not activity.
    const ordered = { ...retention, event: 'Order Completed' };
    expect(metricValueAfter(ordered, exposedAt, null, active(8 * 24), 0)).toBeNull();
    expect(metricValueAfter(ordered, exposedAt, null, active(8 * 24, 'Order Completed'), 0)).toBe(1);
    expect(metricValueAfter(retention, exposedAt, null, { ...active(8 * 24), kind: 'redemption' }, 0)).toBeNull();
    // A stored metric from before windowDays existed has the default week.
    const older = { ...retention, windowDays: undefined };
    expect(metricValueAfter(older, exposedAt, null, active(13 * 24), 0)).toBe(1);
  });

  it('counts a redemption once, with its filters, in the window; track events do not move it', () => {
    const redemption: ExperimentMetric = {
      key: 'redeemed',
      type: 'redemption',
      event: null,
      where: [{ property: 'offerKey', op: 'eq', value: 'camera-10' }],
      days: 7,
      guardrail: false,
      goodDirection: 'up',
    };
    const redeemed = (hours: number, offerKey = 'camera-10') => ({ kind: 'redemption' as const, name: 'offers.redeemed', properties: { offerKey }, occurredAt: at(hours) });
    expect(metricValueAfter(redemption, exposedAt, null, redeemed(3), 0)).toBe(1);
    expect(metricValueAfter(redemption, exposedAt, null, redeemed(3), 1)).toBeNull();
    expect(metricValueAfter(redemption, exposedAt, null, redeemed(3, 'other'), 0)).toBeNull();
    expect(metricValueAfter(redemption, exposedAt, null, redeemed(8 * 24), 0)).toBeNull();
    expect(metricValueAfter(redemption, exposedAt, null, { ...redeemed(3), kind: 'track', name: 'Order Completed' }, 0)).toBeNull();
    // A conversion metric ignores redemptions even when the names match.
    expect(metricValueAfter(conversion, exposedAt, null, { ...redeemed(3), name: 'Order Completed', properties: { category: 'cameras' } }, 0)).toBeNull();
  });

  it('adds revenue and keeps the larger 0/1 value when two exposed profiles merge', () => {
    expect(mergedMetricValue(revenue, 100, 30)).toBe(130);
    expect(mergedMetricValue(conversion, 0, 1)).toBe(1);
    expect(mergedMetricValue(conversion, 1, 1)).toBe(1);
  });

  it('takes the money value of redeemed rewards away from net revenue, in the reward currency’s units', () => {
    const net: ExperimentMetric = { key: 'net', type: 'net_revenue', event: null, where: [], days: 14, guardrail: false, goodDirection: 'up' };
    const redeemed = (rewardValue: number | null, rewardCurrency: string | null) => ({
      kind: 'redemption' as const,
      name: 'offers.redeemed',
      properties: { offerKey: 'x', rewardValue, rewardCurrency },
      occurredAt: at(2),
    });
    expect(metricValueAfter(net, exposedAt, null, { kind: 'track', name: 'Order Completed', properties: { revenue: 100 }, occurredAt: at(1) }, 0)).toBe(100);
    expect(metricValueAfter(net, exposedAt, null, redeemed(1250, 'EUR'), 100)).toBe(87.5);
    expect(metricValueAfter(net, exposedAt, null, redeemed(500, 'JPY'), 0)).toBe(-500);
    // Free shipping or points: no money value, nothing moves. Revenue itself ignores rewards.
    expect(metricValueAfter(net, exposedAt, null, redeemed(null, null), 100)).toBeNull();
    expect(metricValueAfter(revenue, exposedAt, null, redeemed(1250, 'EUR'), 100)).toBeNull();
    expect(rewardCost({ rewardValue: 999, rewardCurrency: 'KWD' })).toBeCloseTo(0.999, 12);
    expect(mergedMetricValue(net, 10, 5)).toBe(15);
  });
});
