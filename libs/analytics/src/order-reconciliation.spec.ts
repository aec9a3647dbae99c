import { isPurchase, reconcileOrders, type OrderDocument } from './order-reconciliation';

const MIN = 60_000;
const doc = (customerId: string, orderId: string | null, at: number, lines: Array<[product: string | null, amount: number, category?: string]>): OrderDocument => ({
  customerId,
  orderId,
  at,
  lines: lines.map(([product, amount, category]) => ({ product, amount, category: category ?? null })),
});

describe('reconcileOrders', () => {
  it('drops an order cancelled minutes later under another invoice number (matched by customer, product and amount)', () => {
    const { orders, counts } = reconcileOrders([doc('a', '581483', 0, [['23843', 168_469.6]]), doc('a', 'C581484', 10 * MIN, [['23843', -168_469.6]]), doc('a', '540000', 20 * MIN, [['22423', 2.9]])]);
    expect(orders.map((o) => [o.orderId, o.status, o.amount])).toEqual([
      ['581483', 'cancelled', 0],
      ['540000', 'paid', 2.9],
    ]);
    expect(counts).toMatchObject({ returns: 1, returnedValue: 168_469.6, matchedByProduct: 168_469.6, fullyCancelled: 1, unmatchedValue: 0 });
  });

  it('matches by order id first, also with the "C" prefix, and reduces a partly refunded order', () => {
    const { orders, counts } = reconcileOrders([
      doc('a', '100', 0, [
        ['p1', 30, 'books'],
        ['p2', 20, 'music'],
      ]),
      doc('a', 'C100', MIN, [['p9', -20]]),
      doc('a', '101', 2 * MIN, [['p1', 15]]),
    ]);
    const first = orders.find((o) => o.orderId === '100')!;
    expect(first).toMatchObject({ status: 'partly-refunded', gross: 50, refunded: 20, amount: 30 });
    expect(counts.matchedById).toBe(20);
    expect(orders.filter(isPurchase)).toHaveLength(2);
  });

  it('prefers the latest earlier order that has enough of the product, and never an order placed after the return', () => {
    const { orders } = reconcileOrders([doc('a', '1', 0, [['p', 10]]), doc('a', '2', 10 * MIN, [['p', 4]]), doc('a', 'C9', 20 * MIN, [['p', -10]]), doc('a', '3', 30 * MIN, [['p', 10]])]);
    expect(Object.fromEntries(orders.map((o) => [o.orderId, o.status]))).toEqual({ '1': 'cancelled', '2': 'paid', '3': 'paid' });
  });

  it('without products matches by exact amount; what matches nothing (bought before the file) is counted and touches no order', () => {
    const { orders, counts } = reconcileOrders([
      doc('a', 'o1', 0, [[null, 21]]),
      doc('a', 'o2', MIN, [[null, 21]]),
      doc('a', 'r1', 2 * MIN, [[null, -21]]),
      doc('b', 'o3', 0, [[null, 50]]),
      doc('b', 'r2', MIN, [[null, -7]]),
    ]);
    expect(orders.filter(isPurchase).map((o) => o.orderId)).toEqual(['o1', 'o3']);
    expect(counts).toMatchObject({ matchedByAmount: 21, unmatchedValue: 7, fullyCancelled: 1 });
  });

  it('counts orders worth nothing as zero-value, not as purchases', () => {
    const { orders, counts } = reconcileOrders([doc('z', '1', 0, [['p', 0]]), doc('z', '2', MIN, [['q', 0]])]);
    expect(orders.every((o) => o.status === 'zero-value' && !isPurchase(o))).toBe(true);
    expect(counts.zeroValue).toBe(2);
  });

  it('keeps the value left per category', () => {
    const { orders } = reconcileOrders([
      doc('a', '1', 0, [
        ['p1', 30, 'books'],
        ['p2', 20, 'music'],
      ]),
      doc('a', 'C2', MIN, [['p2', -20]]),
    ]);
    expect([...orders[0].categories]).toEqual([['books', 30]]);
  });
});
