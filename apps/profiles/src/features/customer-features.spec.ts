import { quintileCuts } from '@segmenta/analytics';
import { applyEvent, changedValues, deriveFeatures, emptyAccumulator, orderValue, publicFeatures, type FeatureEvent } from './customer-features';

const money = { baseCurrency: 'USD', fxRates: { EUR: 1.1 } };
const at = (iso: string) => new Date(iso);
const track = (name: string, properties: Record<string, unknown>, occurredAt: string): FeatureEvent => ({ type: 'track', name, properties, occurredAt: at(occurredAt) });

const history: FeatureEvent[] = [
  { type: 'page', name: 'Home', properties: {}, occurredAt: at('2026-01-01T10:00:00Z') },
  track('Product Viewed', { category: 'Cameras' }, '2026-01-02T10:00:00Z'),
  track('Product Added', { category: 'cameras' }, '2026-01-02T10:05:00Z'),
  track('Order Completed', { revenue: 199.99, currency: 'USD', products: [{ category: 'Cameras', price: 199.99, quantity: 1 }] }, '2026-01-02T10:10:00Z'),
  track('Order Completed', { total: 50, currency: 'EUR', products: [{ category: 'Books', price: 25, quantity: 2 }] }, '2026-02-01T09:00:00Z'),
  track('Order Completed', { revenue: 1000, currency: 'JPY' }, '2026-03-01T09:00:00Z'),
];

describe('customer features', () => {
  it('counts orders and revenue in minor units of the base currency, converting with configured rates', () => {
    const acc = history.reduce((a, e) => applyEvent(a, e, money), emptyAccumulator());
    expect(acc.eventCount).toBe(6);
    expect(acc.orders).toBe(3);
    expect(acc.revenue).toBe(19999 + 5500); // 50 EUR × 1.1 = 55.00 USD
    expect(acc.revenueOther).toEqual({ JPY: 1000 }); // no JPY rate configured: kept apart
    expect(acc.firstSeen).toEqual(at('2026-01-01T10:00:00Z'));
    expect(acc.lastOrderAt).toEqual(at('2026-03-01T09:00:00Z'));
  });

  it('takes revenue, else total, else the sum of the products', () => {
    expect(orderValue({ revenue: 10, total: 12 })).toBe(10);
    expect(orderValue({ total: '12.5' })).toBe(12.5);
    expect(orderValue({ products: [{ price: 3, quantity: 2 }, { price: 1.5 }] })).toBe(7.5);
    expect(orderValue({})).toBeNull();
  });

  it('gives the same features whatever order the events arrive in', () => {
    const forward = history.reduce((a, e) => applyEvent(a, e, money), emptyAccumulator());
    const backward = [...history].reverse().reduce((a, e) => applyEvent(a, e, money), emptyAccumulator());
    const now = at('2026-03-10T00:00:00Z');
    const f = publicFeatures(deriveFeatures(forward, now, null, money));
    const b = publicFeatures(deriveFeatures(backward, now, null, money));
    expect(changedValues(f, b)).toEqual({});
  });

  it('derives AOV, recency, tenure, affinity, lifecycle and RFM scores against population cuts', () => {
    const acc = history.reduce((a, e) => applyEvent(a, e, money), emptyAccumulator());
    const now = at('2026-03-11T09:00:00Z');
    const cuts = {
      recency: quintileCuts([1, 5, 10, 30, 60, 90, 120, 200, 300, 400])!,
      frequency: quintileCuts([1, 1, 1, 1, 2, 2, 3, 4, 6, 9])!,
      monetary: quintileCuts([500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000])!,
    };
    const features = deriveFeatures(acc, now, cuts, money);
    expect(features.aov).toBe(Math.round(25499 / 3));
    expect(features.recencyDays).toBe(10);
    expect(features.tenureDays).toBe(68);
    expect(features.rfmR).toBe(4); // 10 days: cuts [9, 48, 102, 220]
    expect(features.rfmF).toBe(4); // 3 orders: cuts [1, 1.6, 2.4, 4.4]
    expect(features.rfmM).toBe(4); // 25,499: cuts [1800, 6400, 22400, 76800]
    expect(features.lifecycleStage).toBe('loyal');
    // cameras: view 1 + cart 3 + purchase 5 on Jan 2; books: purchase 5 on Feb 1 (30 days later).
    const cameras = 9 * 2 ** (-(at('2026-02-01T09:00:00Z').getTime() - at('2026-01-02T10:00:00Z').getTime()) / (30 * 86_400_000));
    expect(features.topCategory).toBe('books');
    expect(features.categoryAffinity.books).toBeCloseTo(5 / (5 + cameras), 3);
    expect(deriveFeatures(emptyAccumulator(), now, cuts, money)).toMatchObject({ lifecycleStage: 'prospect', rfmR: null, aov: null, topCategory: null });
  });

  describe('Order Refunded and Order Cancelled (Segment e-commerce spec v2)', () => {
    const big = track('Order Completed', { order_id: 'o-big', revenue: 168_470, currency: 'USD', products: [{ product_id: 'p1', price: 2.08, quantity: 80995 }] }, '2026-02-01T10:00:00Z');
    const small = track('Order Completed', { order_id: 'o-small', revenue: 2.9, currency: 'USD' }, '2026-01-01T10:00:00Z');
    const pair = track(
      'Order Completed',
      {
        order_id: 'o-pair',
        total: 50,
        currency: 'USD',
        products: [
          { product_id: 'a', price: 30 },
          { product_id: 'b', price: 20 },
        ],
      },
      '2026-01-15T10:00:00Z',
    );
    const fold = (events: FeatureEvent[]) => events.reduce((a, e) => applyEvent(a, e, money), emptyAccumulator());
    const now = at('2026-03-01T00:00:00Z');

    it('drops a cancelled order from orders, revenue, AOV and the order dates the models read', () => {
      const f = deriveFeatures(fold([small, big, track('Order Cancelled', { order_id: 'o-big' }, '2026-02-01T10:12:00Z')]), now, null, money);
      expect(f).toMatchObject({ orders: 1, revenue: 290, aov: 290, lastOrderAt: at('2026-01-01T10:00:00Z'), recencyDays: 58 });
    });

    it('reduces a partly refunded order by the refunded total or products, and drops a fully refunded one', () => {
      const partly = fold([small, pair, track('Order Refunded', { order_id: 'o-pair', products: [{ product_id: 'b', price: 20, quantity: 1 }] }, '2026-01-20T10:00:00Z')]);
      expect(partly).toMatchObject({ orders: 2, revenue: 290 + 3000 });
      const byTotal = fold([small, pair, track('Order Refunded', { order_id: 'o-pair', total: 12.5 }, '2026-01-20T10:00:00Z')]);
      expect(byTotal.revenue).toBe(290 + 3750);
      // No amount and no products: the whole order is refunded.
      const whole = fold([small, pair, track('Order Refunded', { order_id: 'o-pair' }, '2026-01-20T10:00:00Z')]);
      expect(whole).toMatchObject({ orders: 1, revenue: 290, lastOrderAt: at('2026-01-01T10:00:00Z') });
    });

    it('gives the same result whatever order the events arrive in, a refund before its order included', () => {
      const events = [small, pair, big, track('Order Cancelled', { order_id: 'o-big' }, '2026-02-01T10:12:00Z'), track('Order Refunded', { order_id: 'o-pair', total: 20 }, '2026-01-20T10:00:00Z')];
      const forward = publicFeatures(deriveFeatures(fold(events), now, null, money));
      const backward = publicFeatures(deriveFeatures(fold([...events].reverse()), now, null, money));
      expect(changedValues(forward, backward)).toEqual({});
      expect(forward).toMatchObject({ orders: 2, revenue: 290 + 3000 });
    });

    it('keeps the orders and revenue of a profile stored before the order ledger when its next order arrives', () => {
      const before = { ...fold(history), orderLedger: {} };
      const after = applyEvent(before, small, money);
      expect(after).toMatchObject({ orders: 4, revenue: 19999 + 5500 + 290, revenueOther: { JPY: 1000 }, firstOrderAt: at('2026-01-01T10:00:00Z'), lastOrderAt: at('2026-03-01T09:00:00Z') });
    });

    it('counts two orders without an order_id placed in the same instant for the same amount twice (kept by event id)', () => {
      const order = (id: string): FeatureEvent => ({ ...track('Order Completed', { revenue: 10 }, '2026-01-05T10:00:00Z'), id });
      expect(fold([order('e1'), order('e2'), order('e1')])).toMatchObject({ orders: 2, revenue: 2000 });
    });

    it('counts an order worth 0 as no purchase: no order dates, so no model values', () => {
      const acc = fold([track('Order Completed', { order_id: 'free', revenue: 0 }, '2026-01-01T10:00:00Z')]);
      expect(acc).toMatchObject({ orders: 0, revenue: 0, firstOrderAt: null, lastOrderAt: null });
    });
  });

  it('leaves P(alive) and churn risk empty under a BG/NBD fit that cannot identify dropout, and takes the lifecycle stage from recency', () => {
    const acc = history.reduce((a, e) => applyEvent(a, e, money), emptyAccumulator());
    const clv = { months: 12, margin: 1, monthlyDiscountRate: 0.01 };
    // E[p] = a / (a + b) ≈ 1e-11: the fit's "nobody ever leaves".
    const boundary = { bgnbd: { r: 1, alpha: 4, a: 1e-10, b: 10 }, gammaGamma: null, fittedAt: '2026-03-01T00:00:00Z' };
    const late = at('2026-10-01T00:00:00Z'); // 214 days after the last order
    const f = deriveFeatures(acc, late, null, money, {}, { models: boundary, clv });
    expect(f).toMatchObject({ pAlive: null, churnRisk: null, lifecycleStage: 'lapsed' });
    expect(f.expectedOrders90d).toBeGreaterThan(0);
    const identified = deriveFeatures(acc, late, null, money, {}, { models: { ...boundary, bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 } }, clv });
    expect(identified.pAlive).toBeGreaterThan(0);
  });

  it('reports only the values that changed', () => {
    expect(changedValues({ a: 1, b: { x: 1 }, c: 0.1 + 0.2 }, { a: 1, b: { x: 2 }, c: 0.3 })).toEqual({ b: { x: 2 } });
    expect(changedValues(null, { a: 1 })).toEqual({ a: 1 });
    // jsonb hands objects back with its own key order.
    expect(changedValues({ shares: { books: 0.4, garden: 0.6 } }, { shares: { garden: 0.6, books: 0.4 } })).toEqual({});
    expect(changedValues({ shares: { books: 0.4 } }, { shares: { books: 0.4, garden: 0.6 } })).toEqual({ shares: { books: 0.4, garden: 0.6 } });
    expect(changedValues({ x: null }, { x: 0 })).toEqual({ x: 0 });
  });
});
