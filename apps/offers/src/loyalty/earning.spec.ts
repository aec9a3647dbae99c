import { birthdayOf, bonusesFor, orderFromProperties, pointsForOrder, withinDailyCap, type EarnRuleDefinition } from './earning';

const base: EarnRuleDefinition = { type: 'base', currency: 'EUR', pointsPerUnit: 1 };
const nobody = () => false;

describe('orderFromProperties', () => {
  it("reads Segment's Order Completed: order id, revenue before total and subtotal, currency, products' categories and amounts", () => {
    expect(
      orderFromProperties({
        order_id: 'o-1',
        total: 130,
        revenue: 120,
        currency: 'eur',
        products: [{ category: 'Cameras', price: 100, quantity: 1 }, { category: 'Cables', price: '10', quantity: 2 }, { price: -1 }, 'junk'],
      }),
    ).toEqual({
      orderId: 'o-1',
      revenue: 120,
      currency: 'EUR',
      products: [
        { category: 'cameras', amount: 100 },
        { category: 'cables', amount: 20 },
      ],
    });
  });

  it('falls back to total, subtotal, then the products; USD without a currency; a numeric order id as text', () => {
    expect(orderFromProperties({ order_id: 42, total: 50 })).toMatchObject({ orderId: '42', revenue: 50, currency: 'USD' });
    expect(orderFromProperties({ subtotal: 30 })).toMatchObject({ orderId: null, revenue: 30 });
    expect(orderFromProperties({ products: [{ price: 5, quantity: 3 }] })).toMatchObject({ revenue: 15 });
  });

  it('reads no order without an amount, or with a negative one', () => {
    expect(orderFromProperties({ order_id: 'x' })).toBeNull();
    expect(orderFromProperties({ order_id: 'x', revenue: -5 })).toBeNull();
  });
});

describe('pointsForOrder', () => {
  const order = (revenue: number, products: Array<{ category: string | null; amount: number }> = [], currency = 'EUR') => ({ orderId: 'o', revenue, currency, products });

  it("earns the base rate of the order's currency, rounded down, and nothing in a currency without one", () => {
    expect(pointsForOrder(order(19.99), [{ ...base, pointsPerUnit: 100 }], nobody, null).points).toBe(1999);
    expect(pointsForOrder(order(129.5), [base], nobody, null).points).toBe(129);
    const dollars = pointsForOrder(order(100, [], 'USD'), [base], nobody, null);
    expect(dollars.points).toBe(0);
    expect(dollars.details.pointsPerUnit).toBeNull();
  });

  it('adds the category bonus on those products only, scaled down to the revenue after a discount', () => {
    const rules: EarnRuleDefinition[] = [base, { type: 'category_multiplier', category: 'Cameras', multiplier: 3 }];
    // 100 of cameras at 3× and 50 of cables at 1×: 100·3 + 50 = 350.
    expect(
      pointsForOrder(
        order(150, [
          { category: 'cameras', amount: 100 },
          { category: 'cables', amount: 50 },
        ]),
        rules,
        nobody,
        null,
      ).points,
    ).toBe(350);
    // Products worth 200 sold for 100 (half off): the camera share is 50, earning 50·3 + 50 = 200.
    expect(
      pointsForOrder(
        order(100, [
          { category: 'cameras', amount: 100 },
          { category: 'cables', amount: 100 },
        ]),
        rules,
        nobody,
        null,
      ).points,
    ).toBe(200);
  });

  it("multiplies by the best multiplier of the customer's segments, without compounding, then caps per order", () => {
    const rules: EarnRuleDefinition[] = [base, { type: 'segment_multiplier', segment: 'vip', multiplier: 2 }, { type: 'segment_multiplier', segment: 'camera-fans', multiplier: 1.5 }];
    const both = (s: string) => s === 'vip' || s === 'camera-fans';
    const earning = pointsForOrder(order(100), rules, both, null);
    expect(earning.points).toBe(200);
    expect(earning.details).toMatchObject({ segment: 'vip', segmentMultiplier: 2, basePoints: 100, cappedAt: null });
    expect(pointsForOrder(order(100), rules, (s) => s === 'camera-fans', null).points).toBe(150);
    const capped = pointsForOrder(order(100), rules, both, 120);
    expect(capped.points).toBe(120);
    expect(capped.details.cappedAt).toBe(120);
  });
});

describe('withinDailyCap', () => {
  it('gives what is left of the day, never less than nothing', () => {
    expect(withinDailyCap(50, 0, null)).toBe(50);
    expect(withinDailyCap(50, 80, 100)).toBe(20);
    expect(withinDailyCap(50, 120, 100)).toBe(0);
  });
});

describe('bonusesFor', () => {
  const rules = [
    { key: 'review', rule: { type: 'event_bonus' as const, event: 'Product Reviewed', points: 50, oncePerCustomer: false } },
    { key: 'signup', rule: { type: 'event_bonus' as const, event: 'Signed Up', points: 200, oncePerCustomer: true } },
    { key: 'first', rule: { type: 'first_order_bonus' as const, points: 100 } },
    { key: 'base', rule: base },
  ];
  const activity = (name: string, type = 'track') => ({ profileId: 'p1', eventId: 'e1', type, name });

  it('gives each matching rule its bonus, once per event or once per customer by its cause', () => {
    expect(bonusesFor(activity('Product Reviewed'), rules)).toEqual([{ ruleKey: 'review', points: 50, cause: 'bonus:review:e1' }]);
    expect(bonusesFor(activity('Signed Up'), rules)).toEqual([{ ruleKey: 'signup', points: 200, cause: 'bonus:signup:p1' }]);
    expect(bonusesFor(activity('Order Completed'), rules)).toEqual([{ ruleKey: 'first', points: 100, cause: 'first-order:p1' }]);
    expect(bonusesFor(activity('Product Viewed'), rules)).toEqual([]);
    expect(bonusesFor(activity('Product Reviewed', 'page'), rules)).toEqual([]);
  });
});

describe('birthdayOf', () => {
  it('reads the month and day of an ISO date or MM-DD, and nothing else', () => {
    expect(birthdayOf('1990-05-17')).toBe('05-17');
    expect(birthdayOf('1990-05-17T00:00:00Z')).toBe('05-17');
    expect(birthdayOf('02-29')).toBe('02-29');
    expect(birthdayOf('1990-02-30')).toBeNull();
    expect(birthdayOf('17/05/1990')).toBeNull();
    expect(birthdayOf(19900517)).toBeNull();
  });
});
