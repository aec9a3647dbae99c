import type { Scalar, ValueTest } from './definition';

/**
 * The value semantics of the rule language in memory. `sql.ts` states the same in SQL; the
 * property-based test in segmentation checks that they agree on every profile.
 */

/** Reads a path through nested objects; arrays are not indexed, and JSON null counts as absent. */
export function lookup(source: Record<string, unknown>, path: readonly string[]): unknown {
  let current: unknown = source;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current === null ? undefined : current;
}

/** Orders strings by Unicode code point, as PostgreSQL's "C" collation orders UTF-8 text. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 puts surrogates (astral code points) below U+E000–U+FFFF; code point order does not.
      const rank = (u: number) => (u >= 0xe000 ? u - 0x800 : u >= 0xd800 ? u + 0x2000 : u);
      return rank(x) - rank(y);
    }
  }
  return a.length - b.length;
}

const sameScalar = (v: unknown, c: Scalar) => v === c && typeof v === typeof c;

function ordered(v: unknown, c: number | string, accept: (cmp: number) => boolean): boolean {
  if (typeof c === 'number') return typeof v === 'number' && accept(v < c ? -1 : v > c ? 1 : 0);
  return typeof v === 'string' && accept(compareCodePoints(v, c));
}

/** The test of one value as a function, built once per condition. */
export function compileValueTest(test: ValueTest): (v: unknown) => boolean {
  switch (test.op) {
    case 'exists': {
      const want = test.value ?? true;
      return (v) => (v !== undefined) === want;
    }
    case 'eq': {
      const c = test.value;
      return (v) => sameScalar(v, c);
    }
    case 'neq': {
      const c = test.value;
      return (v) => !sameScalar(v, c);
    }
    case 'in': {
      const list = test.value;
      return (v) => list.some((c) => sameScalar(v, c));
    }
    case 'nin': {
      const list = test.value;
      return (v) => !list.some((c) => sameScalar(v, c));
    }
    case 'gt': {
      const c = test.value;
      return (v) => ordered(v, c, (cmp) => cmp > 0);
    }
    case 'gte': {
      const c = test.value;
      return (v) => ordered(v, c, (cmp) => cmp >= 0);
    }
    case 'lt': {
      const c = test.value;
      return (v) => ordered(v, c, (cmp) => cmp < 0);
    }
    case 'lte': {
      const c = test.value;
      return (v) => ordered(v, c, (cmp) => cmp <= 0);
    }
    case 'between': {
      const [low, high] = test.value;
      return (v) => ordered(v, low, (cmp) => cmp >= 0) && ordered(v, high, (cmp) => cmp <= 0);
    }
    case 'contains': {
      const c = test.value;
      return (v) => (typeof v === 'string' ? typeof c === 'string' && v.includes(c) : Array.isArray(v) && v.some((e) => sameScalar(e, c)));
    }
    case 'startsWith': {
      const c = test.value;
      return (v) => typeof v === 'string' && v.startsWith(c);
    }
  }
}

/**
 * A number in millionths, rounded half away from zero as PostgreSQL rounds `numeric`: sums are
 * taken in these units on both sides, so they are exact and agree (a float sum depends on order).
 * The value is read from its JSON text, which is what PostgreSQL stored.
 */
export function microUnits(value: number): number {
  const scaled = value * 1e6;
  const rounded = Math.round(scaled);
  // Far from a tie, the float product rounds like the exact decimal; near one, do it exactly.
  if (Math.abs(Math.abs(scaled - rounded) - 0.5) > 1e-3 && Math.abs(scaled) < 1e12) return rounded === 0 ? 0 : rounded;
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(JSON.stringify(value));
  if (!match) return rounded;
  const [, sign, int, frac = '', exp = '0'] = match;
  const digits = BigInt(int + frac);
  const scale = frac.length - Number(exp) - 6; // value × 10^6 = digits / 10^scale
  let result: bigint;
  if (scale <= 0) result = digits * 10n ** BigInt(-scale);
  else {
    const divisor = 10n ** BigInt(scale);
    result = digits / divisor;
    if ((digits % divisor) * 2n >= divisor) result += 1n;
  }
  return Number(sign === '-' ? -result : result);
}
