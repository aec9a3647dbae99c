import { mapCustomerRow, mapOrderRow } from './row-mapping';

describe('mapOrderRow', () => {
  it('turns an order row into an Order Completed call with revenue in the currency given', () => {
    const mapped = mapOrderRow({ customer_id: 'c-1', order_id: 'o-9', timestamp: '2026-03-01T10:00:00Z', amount: '129.90', currency: 'EUR', category: 'cameras' });
    expect(mapped).toEqual({
      ok: true,
      call: {
        type: 'track',
        event: 'Order Completed',
        messageId: expect.stringMatching(/^import-order-[0-9a-f]{24}$/),
        userId: 'c-1',
        timestamp: '2026-03-01T10:00:00.000Z',
        properties: { order_id: 'o-9', revenue: 129.9, currency: 'EUR', products: [{ category: 'cameras', price: 129.9, quantity: 1 }] },
      },
    });
  });

  it('computes revenue from quantity × unit price and marks a negative amount as a refund', () => {
    const line = mapOrderRow({ CustomerID: '', user_id: 'c-2', InvoiceNo: 'C536379', InvoiceDate: '2010-12-01 09:41', Quantity: '-2', UnitPrice: '4.25' });
    expect(line.ok && line.call).toMatchObject({ event: 'Order Refunded', userId: 'c-2', properties: { order_id: 'C536379', revenue: -8.5, currency: 'USD' } });
  });

  it('gives the same row the same messageId, so a second import stores nothing new', () => {
    const row = { customer_id: 'c-1', order_id: 'o-1', date: '2026-01-01', total: '10' };
    const first = mapOrderRow(row);
    const second = mapOrderRow({ ...row });
    expect(first.ok && second.ok && first.call.messageId === second.call.messageId).toBe(true);
  });

  it('names every missing or unreadable column', () => {
    expect(mapOrderRow({ order_id: 'o', timestamp: 'last tuesday', amount: 'ten' })).toEqual({
      ok: false,
      problems: [
        { field: 'customer_id', problem: expect.stringContaining('customer id is required') },
        { field: 'timestamp', problem: '"last tuesday" is not a date' },
        { field: 'amount', problem: '"ten" is not a number' },
      ],
    });
  });
});

describe('mapCustomerRow', () => {
  it('turns a customer row into an identify call with the other columns as traits', () => {
    expect(mapCustomerRow({ id: 'c-7', email: 'ada@example.com', country: 'DE', note: '' })).toEqual({
      ok: true,
      call: { type: 'identify', messageId: expect.stringMatching(/^import-customer-/), userId: 'c-7', traits: { email: 'ada@example.com', country: 'DE' } },
    });
  });

  it('refuses a row without a customer id', () => {
    expect(mapCustomerRow({ email: 'x@example.com' })).toMatchObject({ ok: false, problems: [{ field: 'customer_id' }] });
  });
});
