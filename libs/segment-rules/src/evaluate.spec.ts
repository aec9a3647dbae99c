import type { SegmentDefinition, ValueTest } from './definition';
import { parseDuration, subtractDuration } from './duration';
import { compilePredicate, type BehaviourFact, type ProfileSnapshot } from './evaluate';
import { compareCodePoints, compileValueTest, microUnits } from './values';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const profile = (overrides: Partial<ProfileSnapshot> = {}): ProfileSnapshot => ({ traits: {}, features: {}, facts: [], ...overrides });
const fact = (name: string, daysAgo: number, props: Record<string, unknown> = {}): BehaviourFact => ({ name, props, at: NOW - daysAgo * DAY });
const holds = (definition: SegmentDefinition, p: ProfileSnapshot, now = NOW) => compilePredicate(definition)(p, now);

describe('parseDuration and subtractDuration', () => {
  it.each([
    ['P7D', '2026-11-16T12:00:00.000Z'],
    ['PT36H', '2026-11-22T00:00:00.000Z'],
    ['P2W', '2026-11-09T12:00:00.000Z'],
    ['P1M', '2026-10-23T12:00:00.000Z'],
    ['P1Y2M3DT4H5M6.5S', '2025-09-20T07:54:53.500Z'],
  ])('%s before 2026-11-23T12:00Z is %s', (text, expected) => {
    const duration = parseDuration(text);
    if (typeof duration === 'string') throw new Error(duration);
    expect(new Date(subtractDuration(NOW, duration)).toISOString()).toBe(expected);
  });

  it('clamps a month back to the last day of a shorter month', () => {
    const month = parseDuration('P1M');
    if (typeof month === 'string') throw new Error(month);
    expect(new Date(subtractDuration(Date.parse('2026-03-31T08:00:00Z'), month)).toISOString()).toBe('2026-02-28T08:00:00.000Z');
    expect(new Date(subtractDuration(Date.parse('2028-03-31T08:00:00Z'), month)).toISOString()).toBe('2028-02-29T08:00:00.000Z');
    expect(new Date(subtractDuration(Date.parse('2026-01-15T00:00:00Z'), month)).toISOString()).toBe('2025-12-15T00:00:00.000Z');
  });

  it.each(['7D', 'P', 'PT', 'P1.5D', 'P-1D', 'P1DT'])('refuses %s', (text) => {
    expect(typeof parseDuration(text)).toBe('string');
  });
});

describe('value tests', () => {
  it('treat a missing value and null alike, and neq/nin as the negation of eq/in', () => {
    const eq = compileValueTest({ op: 'eq', value: 'DE' });
    const neq = compileValueTest({ op: 'neq', value: 'DE' });
    const nin = compileValueTest({ op: 'nin', value: ['DE', 'AT'] });
    expect([eq('DE'), eq(undefined), neq(undefined), neq('FR'), neq('DE'), nin(undefined), nin('AT')]).toEqual([true, false, true, true, false, true, false]);
  });

  it('are type-strict: the string "1" is not the number 1 and "2" is not greater than 1', () => {
    expect(compileValueTest({ op: 'eq', value: 1 })('1')).toBe(false);
    expect(compileValueTest({ op: 'gt', value: 1 })('2')).toBe(false);
    expect(compileValueTest({ op: 'gt', value: '1' })(2)).toBe(false);
    expect(compileValueTest({ op: 'in', value: [true] })(true)).toBe(true);
  });

  it('compare strings by code point, as the C collation does, not by UTF-16 unit', () => {
    // U+1F600 (a surrogate pair in UTF-16) sorts after U+FF5E by code point, before it by code unit.
    expect('😀' < '～').toBe(true);
    expect(compareCodePoints('😀', '～')).toBeGreaterThan(0);
    expect(compareCodePoints('abc', 'abd')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'abc')).toBeLessThan(0);
    expect(compileValueTest({ op: 'between', value: ['2026-01-01', '2026-12-31'] })('2026-06-30T10:00:00Z')).toBe(true);
  });

  it('contains: text in a string, or an element of an array', () => {
    const contains = compileValueTest({ op: 'contains', value: 'cam' });
    expect([contains('camera'), contains(['camera']), contains(['cam', 'x']), contains(5)]).toEqual([true, false, true, false]);
    expect(compileValueTest({ op: 'contains', value: 3 })([1, 3])).toBe(true);
  });

  it('microUnits rounds to millionths half away from zero, exactly at ties', () => {
    expect(microUnits(19.99)).toBe(19_990_000);
    expect(microUnits(0.1) + microUnits(0.2)).toBe(microUnits(0.3));
    expect(microUnits(1.0000005)).toBe(1_000_001);
    expect(microUnits(-1.0000005)).toBe(-1_000_001);
    expect(microUnits(2.5e-7)).toBe(0);
    expect(microUnits(-0)).toBe(0);
    expect(microUnits(1e15)).toBe(1e21);
  });
});

describe('compilePredicate', () => {
  const cameraIntent: SegmentDefinition = { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 3 }, within: 'P7D' };

  it('counts matching events inside the window: three camera views in a week, and time passing takes the customer out', () => {
    const p = profile({
      facts: [
        fact('Product Viewed', 1, { category: 'cameras' }),
        fact('Product Viewed', 3, { category: 'cameras' }),
        fact('Product Viewed', 6, { category: 'cameras' }),
        fact('Product Viewed', 0, { category: 'lenses' }),
      ],
    });
    expect(holds(cameraIntent, p)).toBe(true);
    expect(holds(cameraIntent, p, NOW + 1.5 * DAY)).toBe(false);
    expect(holds(cameraIntent, profile({ facts: p.facts.slice(0, 2) }))).toBe(false);
  });

  it('defaults to "did it at least once" and reads nested properties', () => {
    const definition: SegmentDefinition = { event: 'Order Completed', where: [{ property: 'shipping.country', op: 'eq', value: 'DE' }] };
    expect(holds(definition, profile({ facts: [fact('Order Completed', 400, { shipping: { country: 'DE' } })] }))).toBe(true);
    expect(holds(definition, profile({ facts: [fact('Order Completed', 1, { shipping: 'DE' })] }))).toBe(false);
    expect(holds({ event: 'Order Completed', count: { op: 'eq', value: 0 } }, profile())).toBe(true);
  });

  it('sums a numeric property exactly, ignoring non-numbers', () => {
    const facts = [
      fact('Order Completed', 1, { revenue: 0.1 }),
      fact('Order Completed', 2, { revenue: 0.2 }),
      fact('Order Completed', 3, { revenue: '9' }),
      fact('Order Completed', 40, { revenue: 100 }),
    ];
    expect(holds({ event: 'Order Completed', within: 'P30D', sum: { property: 'revenue', op: 'eq', value: 0.3 } }, profile({ facts }))).toBe(true);
    expect(holds({ event: 'Order Completed', sum: { property: 'revenue', op: 'between', value: [100.3, 100.3] } }, profile({ facts }))).toBe(true);
    expect(holds({ event: 'Order Completed', sum: { property: 'revenue', op: 'lte', value: 0 } }, profile())).toBe(true);
  });

  it('tests the age of the first and last occurrence, false when there is none', () => {
    const facts = [fact('Order Completed', 100, {}), fact('Order Completed', 10, {})];
    expect(holds({ event: 'Order Completed', last: { op: 'lte', value: 'P30D' } }, profile({ facts }))).toBe(true);
    expect(holds({ event: 'Order Completed', first: { op: 'lte', value: 'P30D' } }, profile({ facts }))).toBe(false);
    expect(holds({ event: 'Order Completed', first: { op: 'gt', value: 'P90D' } }, profile({ facts }))).toBe(true);
    expect(holds({ event: 'Order Completed', last: { op: 'gte', value: 'P1D' } }, profile())).toBe(false);
    expect(holds({ not: { event: 'Order Completed', last: { op: 'lte', value: 'P90D' } } }, profile())).toBe(true);
  });

  it('combines all, any, not, traits, features and memberships', () => {
    const definition: SegmentDefinition = {
      all: [
        {
          any: [
            { trait: 'country', op: 'eq', value: 'DE' },
            { trait: 'address.country', op: 'eq', value: 'DE' },
          ],
        },
        { feature: 'orders', op: 'gte', value: 2 },
        { not: { inSegment: 'churned' } },
      ],
    };
    expect(holds(definition, profile({ traits: { address: { country: 'DE' } }, features: { orders: 2 } }))).toBe(true);
    expect(holds(definition, profile({ traits: { country: 'DE' }, features: { orders: 2 }, segments: new Set(['churned']) }))).toBe(false);
    expect(holds(definition, profile({ traits: { country: 'DE' }, features: { orders: null } }))).toBe(false);
  });
});

describe('compilePredicate on a trait or feature: each operator its own closure, the same answers as compileValueTest', () => {
  // The value a condition sees: an own property of the bag, JSON null as absent (what
  // compilePredicate did before trait and feature conditions got closures of their own).
  const reference = (test: ValueTest, bag: Record<string, unknown>, key: string) => {
    const v = Object.prototype.hasOwnProperty.call(bag, key) ? bag[key] : undefined;
    return compileValueTest(test)(v === null ? undefined : v);
  };
  const tests: ValueTest[] = [
    { op: 'exists' },
    { op: 'exists', value: true },
    { op: 'exists', value: false },
    ...(['eq', 'neq', 'contains'] as const).flatMap((op) => ['DE', '', 'a', 1, 0, -0, true, false, NaN].map((value) => ({ op, value }))),
    ...(['in', 'nin'] as const).flatMap((op) => [[], ['DE', 'AT'], [1, '1', true], [0], [NaN], [false, 'x']].map((value) => ({ op, value }))),
    ...(['gt', 'gte', 'lt', 'lte'] as const).flatMap((op) => [5, 0, -1.5, NaN, Infinity, 'm', '', '😀', '～'].map((value) => ({ op, value }))),
    ...(
      [
        [30, 90],
        [90, 30],
        [5, 5],
        [NaN, 10],
        ['b', 'n'],
        ['2026-01-01', '2026-12-31'],
      ] as Array<[number, number] | [string, string]>
    ).map((value) => ({ op: 'between' as const, value })),
    ...['ab', '', '😀'].map((value) => ({ op: 'startsWith' as const, value })),
    // Not what validateDefinition lets through, but what the generic form answers: the same.
    { op: 'between', value: [1, 'z'] } as unknown as ValueTest,
    { op: 'eq', value: null } as unknown as ValueTest,
    { op: 'in', value: [null, 'DE'] } as unknown as ValueTest,
    { op: 'contains', value: undefined } as unknown as ValueTest,
    { op: 'gte', value: true } as unknown as ValueTest,
  ];
  const values: unknown[] = [
    'DE',
    'AT',
    '',
    'a',
    'abc',
    'm',
    'n',
    'zz',
    '😀',
    '～',
    '2026-06-30T10:00:00Z',
    '1',
    'x',
    1,
    0,
    -0,
    5,
    4.999,
    30,
    90,
    91,
    -1.5,
    NaN,
    Infinity,
    -Infinity,
    true,
    false,
    null,
    undefined,
    [],
    ['DE'],
    ['a', 1, true],
    [1],
    [0],
    [false],
    [NaN],
    [null],
    [['DE']],
    { DE: true },
    { op: 'eq' },
  ];
  const keys = ['country', 'constructor', 'toString', '__proto__'];
  const bags: Array<Record<string, unknown>> = [{}, { other: 'DE' }, Object.create({ country: 'DE', orders: 5 }) as Record<string, unknown>];
  for (const key of keys)
    for (const v of values) {
      const own = Object.defineProperty({ other: 1 }, key, { value: v, enumerable: true, configurable: true }) as Record<string, unknown>;
      // The same value inherited (which counts as absent), and inherited under an own null.
      bags.push(own, Object.create(own) as Record<string, unknown>, Object.defineProperty(Object.create(own), key, { value: null }) as Record<string, unknown>);
    }

  it.each(tests.map((test) => [`${test.op} ${Array.isArray(test.value) ? `[${test.value.map(String).join(', ')}]` : String(test.value)}`, test] as const))('%s', (_, test) => {
    for (const key of keys) {
      const trait = compilePredicate({ trait: key, ...test } as SegmentDefinition);
      const feature = compilePredicate({ feature: key, ...test } as SegmentDefinition);
      for (const bag of bags) {
        const expected = reference(test, bag, key);
        const asTrait = trait(profile({ traits: bag, features: { [key]: 'other' } }), NOW);
        const asFeature = feature(profile({ features: bag, traits: { [key]: 'other' } }), NOW);
        if (asTrait !== expected || asFeature !== expected) throw new Error(`${test.op} ${String(test.value)} on ${key} = ${String(bag[key])}: expected ${expected}, got ${asTrait} / ${asFeature}`);
      }
    }
  });

  it('reads only own properties, and missing, null and undefined alike', () => {
    const inherited = Object.create({ country: 'DE' }) as Record<string, unknown>;
    expect(holds({ trait: 'country', op: 'eq', value: 'DE' }, profile({ traits: inherited }))).toBe(false);
    expect(holds({ trait: 'toString', op: 'exists' }, profile())).toBe(false);
    expect(holds({ trait: 'constructor', op: 'exists', value: false }, profile())).toBe(true);
    for (const traits of [{}, { email: null }, { email: undefined }]) {
      expect(holds({ trait: 'email', op: 'exists' }, profile({ traits }))).toBe(false);
      expect(holds({ trait: 'email', op: 'neq', value: 'x' }, profile({ traits }))).toBe(true);
      expect(holds({ trait: 'email', op: 'nin', value: ['x'] }, profile({ traits }))).toBe(true);
      expect(holds({ trait: 'email', op: 'contains', value: 'x' }, profile({ traits }))).toBe(false);
    }
  });

  it('keeps the type-strict and by-code-point rules, arrays for contains but not for in', () => {
    expect(holds({ feature: 'orders', op: 'gte', value: 5 }, profile({ features: { orders: '7' } }))).toBe(false);
    expect(holds({ feature: 'orders', op: 'between', value: [5, 9] }, profile({ features: { orders: 9 } }))).toBe(true);
    expect(holds({ trait: 'country', op: 'in', value: ['DE', 'AT'] }, profile({ traits: { country: ['DE'] } }))).toBe(false);
    expect(holds({ trait: 'tags', op: 'contains', value: 'vip' }, profile({ traits: { tags: ['new', 'vip'] } }))).toBe(true);
    expect(holds({ trait: 'tags', op: 'contains', value: 1 }, profile({ traits: { tags: '1' } }))).toBe(false);
    expect(holds({ trait: 'name', op: 'gt', value: '～' }, profile({ traits: { name: '😀' } }))).toBe(true);
    expect(holds({ trait: 'name', op: 'startsWith', value: 'Ab' }, profile({ traits: { name: 'abc' } }))).toBe(false);
  });

  it('compares NaN as the generic form does: neither below nor above anything', () => {
    expect(holds({ feature: 'clv', op: 'gte', value: 5 }, profile({ features: { clv: NaN } }))).toBe(true);
    expect(holds({ feature: 'clv', op: 'gt', value: 5 }, profile({ features: { clv: NaN } }))).toBe(false);
    expect(holds({ feature: 'clv', op: 'eq', value: NaN }, profile({ features: { clv: NaN } }))).toBe(false);
  });

  it('nested paths read through objects, not arrays', () => {
    expect(holds({ trait: 'address.city', op: 'eq', value: 'Berlin' }, profile({ traits: { address: { city: 'Berlin' } } }))).toBe(true);
    expect(holds({ trait: 'address.city', op: 'exists' }, profile({ traits: { address: [{ city: 'Berlin' }] } }))).toBe(false);
    expect(holds({ feature: 'a.b', op: 'neq', value: 1 }, profile({ features: { a: null } }))).toBe(true);
  });
});
