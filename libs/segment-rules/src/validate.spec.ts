import { formatProblem, validateDefinition } from './validate';

const problemsOf = (definition: unknown) => {
  const result = validateDefinition(definition);
  return result.ok ? [] : result.problems.map(formatProblem);
};

describe('validateDefinition', () => {
  it.each([
    ['a trait test', { trait: 'country', op: 'eq', value: 'DE' }],
    ['a nested trait', { trait: 'address.city', op: 'in', value: ['Berlin', 'Hamburg'] }],
    ['a feature range', { feature: 'recency_days', op: 'between', value: [0, 30] }],
    ['exists without a value', { trait: 'email', op: 'exists' }],
    ['exists false', { trait: 'email', op: 'exists', value: false }],
    ['string order', { trait: 'signup_date', op: 'gte', value: '2026-01-01' }],
    ['a string range in code point order', { trait: 'name', op: 'between', value: ['～', '😀'] }],
    ['the camera-intent rule', { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 3 }, within: 'P7D' }],
    ['a sum', { event: 'Order Completed', sum: { property: 'revenue', op: 'gt', value: 500 }, within: 'P1Y' }],
    ['a last occurrence', { event: 'Order Completed', last: { op: 'gte', value: 'P90D' } }],
    ['has done it', { event: 'Signed Up' }],
    ['membership', { inSegment: 'vip' }],
    [
      'a tree',
      {
        all: [
          {
            any: [
              { trait: 'country', op: 'eq', value: 'DE' },
              { trait: 'country', op: 'eq', value: 'AT' },
            ],
          },
          { not: { inSegment: 'churned' } },
          { feature: 'orders', op: 'gte', value: 2 },
        ],
      },
    ],
  ])('accepts %s', (_, definition) => {
    expect(problemsOf(definition)).toEqual([]);
  });

  it.each([
    [
      'an unknown operator, by its path',
      {
        all: [
          { trait: 'a', op: 'eq', value: 1 },
          { trait: 'b', op: 'eq', value: 2 },
          { event: 'E', where: [{ property: 'p', op: 'equals', value: 1 }] },
        ],
      },
      ['all[2].where[0].op: unknown operator "equals"'],
    ],
    ['a node of no kind', { all: [{ foo: 1 }] }, ['all[0]: must have one of all, any, not, trait, feature, event, inSegment (found foo)']],
    ['two kinds in one node', { trait: 'a', feature: 'b', op: 'eq', value: 1 }, ['definition: has both trait and feature; wrap them in "all" or "any"']],
    ['a typo in a field', { trait: 'a', op: 'eq', vaule: 1 }, ['vaule: unknown field (expected trait, op, value)', 'value: must be a string, a finite number or a boolean for "eq", not undefined']],
    ['an empty all', { all: [] }, ['all: must be a non-empty list of conditions, not an array']],
    ['not an object', 'country = DE', ['definition: must be an object with one of all, any, not, trait, feature, event, inSegment, not "country = DE"']],
    ['an object as eq value', { trait: 'a', op: 'eq', value: { x: 1 } }, ['value: must be a string, a finite number or a boolean for "eq", not an object']],
    ['between upside down', { feature: 'orders', op: 'between', value: [5, 1] }, ['value: low (5) is above high (1)']],
    ['between of mixed types', { feature: 'orders', op: 'between', value: [1, 'z'] }, ['value: must be two numbers or two strings']],
    ['an empty in list', { trait: 'a', op: 'in', value: [] }, ['value: must be a non-empty list for "in", not an array']],
    ['a bad list member', { trait: 'a', op: 'nin', value: ['x', null] }, ['value[1]: must be a string, a finite number or a boolean, not null']],
    ['startsWith a number', { trait: 'a', op: 'startsWith', value: 3 }, ['value: must be a string for "startsWith", not 3']],
    ['a bad window', { event: 'E', within: '7 days' }, ['within: "7 days" is not an ISO-8601 duration such as P7D, PT12H or P1M']],
    ['an empty window', { event: 'E', within: 'P0D' }, ['within: "P0D" is an empty duration']],
    [
      'two measures',
      { event: 'E', count: { op: 'gte', value: 1 }, first: { op: 'lte', value: 'P1D' } },
      ['definition: has count and first; a behaviour condition takes at most one (combine conditions with "all")'],
    ],
    ['a negative count', { event: 'E', count: { op: 'gte', value: -1 } }, ['count.value: must be a number of 0 or more, not -1']],
    ['contains as a count operator', { event: 'E', count: { op: 'contains', value: 1 } }, ['count.op: unknown operator "contains" here (one of eq, neq, gt, gte, lt, lte, between)']],
    ['a sum without a property', { event: 'E', sum: { op: 'gt', value: 1 } }, ['sum.property: must be a non-empty property name']],
    ['an age with eq', { event: 'E', last: { op: 'eq', value: 'P1D' } }, ['last.op: unknown operator "eq" here (one of gt, gte, lt, lte)']],
    ['a bad segment key', { inSegment: 'VIP customers' }, ['inSegment: must be a segment key (lower-case letters, digits, - and _), not "VIP customers"']],
    ['an empty path part', { trait: 'address..city', op: 'exists' }, ['trait: "address..city" has an empty part between dots']],
    ['not of a list', { not: [{ inSegment: 'a' }] }, ['not: must be an object with one of all, any, not, trait, feature, event, inSegment, not an array']],
  ])('rejects %s', (_, definition, expected) => {
    expect(problemsOf(definition)).toEqual(expected);
  });

  it('reports every problem, not only the first', () => {
    expect(problemsOf({ any: [{ trait: '', op: 'eq', value: 1 }, { feature: 'x', op: 'near', value: 1 }, { inSegment: 5 }] })).toEqual([
      'any[0].trait: must be a non-empty trait name',
      'any[1].op: unknown operator "near"',
      'any[2].inSegment: must be a segment key (lower-case letters, digits, - and _), not 5',
    ]);
  });

  it('refuses definitions nested too deep or too large', () => {
    let deep: unknown = { trait: 'a', op: 'exists' };
    for (let i = 0; i < 40; i += 1) deep = { not: deep };
    expect(problemsOf(deep)[0]).toMatch(/nested deeper than 32 levels/);
    const wide = { any: Array.from({ length: 20 }, () => ({ all: Array.from({ length: 60 }, () => ({ trait: 'a', op: 'exists' })) })) };
    expect(problemsOf(wide)).toContain('any[16].all[22]: the definition has more than 1000 nodes');
  });
});
