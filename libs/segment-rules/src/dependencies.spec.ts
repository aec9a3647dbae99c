import { evaluationOrder, extractDependencies, findMembershipCycle, timeBoundaries } from './dependencies';

describe('extractDependencies', () => {
  it('lists the top-level traits, features, events and segments a definition reads', () => {
    expect(
      extractDependencies({
        all: [
          { trait: 'address.city', op: 'eq', value: 'Berlin' },
          { any: [{ feature: 'recency_days', op: 'lte', value: 30 }, { not: { inSegment: 'churned' } }] },
          { event: 'Product Viewed', count: { op: 'gte', value: 2 } },
          { trait: 'country', op: 'exists' },
        ],
      }),
    ).toEqual({ traits: ['address', 'country'], features: ['recency_days'], events: ['Product Viewed'], segments: ['churned'], timeDependent: false });
  });

  it.each([
    [{ event: 'E', within: 'P7D' }, true],
    [{ event: 'E', last: { op: 'gte' as const, value: 'P30D' } }, true],
    [{ event: 'E', count: { op: 'gte' as const, value: 2 } }, false],
    [{ feature: 'recency_days', op: 'lte' as const, value: 30 }, false],
  ])('marks %j time-dependent: %s', (definition, expected) => {
    expect(extractDependencies(definition).timeDependent).toBe(expected);
  });
});

describe('timeBoundaries', () => {
  it('lists each event with every duration at which a fact of it can flip an outcome, once each', () => {
    expect(
      timeBoundaries({
        all: [
          { event: 'Order Completed', within: 'P30D', count: { op: 'gte', value: 2 } },
          { not: { event: 'Order Completed', within: 'P30D', sum: { property: 'revenue', op: 'gt', value: 100 } } },
          {
            any: [
              { event: 'Product Viewed', within: 'P7D', last: { op: 'lte', value: 'P1D' } },
              { event: 'Signed Up', first: { op: 'gte', value: 'P1M' } },
            ],
          },
          { event: 'Product Viewed', count: { op: 'gte', value: 3 } },
          { trait: 'country', op: 'eq', value: 'DE' },
          { inSegment: 'vip' },
        ],
      }),
    ).toEqual([
      { event: 'Order Completed', duration: 'P30D' },
      { event: 'Product Viewed', duration: 'P1D' },
      { event: 'Product Viewed', duration: 'P7D' },
      { event: 'Signed Up', duration: 'P1M' },
    ]);
  });

  it('has none for a definition time alone cannot change', () => {
    expect(
      timeBoundaries({
        all: [
          { event: 'E', count: { op: 'gte', value: 2 } },
          { feature: 'recency_days', op: 'lte', value: 30 },
        ],
      }),
    ).toEqual([]);
  });
});

describe('membership graph', () => {
  it('finds a cycle through inSegment references, and orders acyclic segments after what they read', () => {
    expect(
      findMembershipCycle(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual(['a', 'b', 'c', 'a']);
    expect(findMembershipCycle(new Map([['a', ['a']]]))).toEqual(['a', 'a']);
    const acyclic = new Map([
      ['vip-de', ['vip']],
      ['vip', []],
      ['lapsed-vip', ['vip', 'lapsed']],
      ['lapsed', []],
    ]);
    expect(findMembershipCycle(acyclic)).toBeNull();
    const order = evaluationOrder(acyclic);
    expect(order.indexOf('vip')).toBeLessThan(order.indexOf('vip-de'));
    expect(order.indexOf('lapsed')).toBeLessThan(order.indexOf('lapsed-vip'));
    expect([...order].sort()).toEqual(['lapsed', 'lapsed-vip', 'vip', 'vip-de']);
  });
});
