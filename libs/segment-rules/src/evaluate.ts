import {
  isAll,
  isAny,
  isBehaviour,
  isFeature,
  isMembership,
  isNot,
  isTrait,
  pathOf,
  type AgeTest,
  type BehaviourCondition,
  type NumberTest,
  type Scalar,
  type SegmentDefinition,
  type ValueTest,
} from './definition';
import { durationOf, subtractDuration, type Duration } from './duration';
import { compareCodePoints, compileValueTest, lookup, microUnits } from './values';

/** One remembered event of a customer (segmentation's `behaviour_facts`). */
export interface BehaviourFact {
  name: string;
  props: Record<string, unknown>;
  /** When it happened, epoch milliseconds. */
  at: number;
}

/** What the in-memory evaluator sees of a customer. */
export interface ProfileSnapshot {
  traits: Record<string, unknown>;
  features: Record<string, unknown>;
  facts: readonly BehaviourFact[];
  /** Keys of the segments the customer is a member of (for `inSegment`). */
  segments?: ReadonlySet<string>;
}

export type SegmentPredicate = (profile: ProfileSnapshot, now: number) => boolean;

/**
 * Compiles a validated definition into a closure, once; evaluating it walks no tree and parses
 * nothing (paths split, durations parsed and value tests built here).
 */
export function compilePredicate(definition: SegmentDefinition): SegmentPredicate {
  if (isAll(definition)) {
    const parts = definition.all.map(compilePredicate);
    if (parts.length === 1) return parts[0];
    if (parts.length === 2) {
      const [a, b] = parts;
      return (p, now) => a(p, now) && b(p, now);
    }
    return (p, now) => {
      for (const part of parts) if (!part(p, now)) return false;
      return true;
    };
  }
  if (isAny(definition)) {
    const parts = definition.any.map(compilePredicate);
    if (parts.length === 1) return parts[0];
    return (p, now) => {
      for (const part of parts) if (part(p, now)) return true;
      return false;
    };
  }
  if (isNot(definition)) {
    const inner = compilePredicate(definition.not);
    return (p, now) => !inner(p, now);
  }
  if (isTrait(definition)) return profileValueTest('traits', definition.trait, definition);
  if (isFeature(definition)) return profileValueTest('features', definition.feature, definition);
  if (isMembership(definition)) {
    const key = definition.inSegment;
    return (p) => p.segments?.has(key) ?? false;
  }
  if (isBehaviour(definition)) return behaviourPredicate(definition);
  throw new Error('not a validated segment definition');
}

const hasOwn = Object.prototype.hasOwnProperty;
const isScalar = (c: unknown): c is Scalar => typeof c === 'string' || typeof c === 'number' || typeof c === 'boolean';

/**
 * A trait or feature condition as a closure of its own kind. V8 keeps type feedback per closure
 * creation site, and all closures made at one site share it (and its optimised code): one generic
 * closure calling a value test would see every condition kind and field of the process, and its
 * call and property sites went megamorphic and were deoptimised and re-optimised as conditions were
 * added (measured in `npm run bench -- --only=evaluator`, BENCHMARKS.md). So each operator on a
 * top-level field gets its own closure, which reads the field and tests it inline with the
 * constants it captured: no inner calls. Same semantics as `compileValueTest` over `lookup`
 * (`evaluate.spec.ts` checks them against each other); nested paths and values a validated
 * definition cannot hold use that generic form.
 *
 * Only own properties count. A missing, null or undefined value is absent, and every test gives
 * a fixed answer for an absent value; so each closure reads the field first and asks whether it is
 * the bag's own only when its answer differs from that one (an inherited value must then count as
 * absent): `hasOwnProperty` is a call V8 does not inline.
 */
function profileValueTest(source: 'traits' | 'features', name: string, test: ValueTest): SegmentPredicate {
  const path = pathOf(name);
  const traits = source === 'traits';
  if (path.length !== 1) {
    const generic = compileValueTest(test);
    return traits ? (p) => generic(lookup(p.traits, path)) : (p) => generic(lookup(p.features, path));
  }
  const key = path[0];
  switch (test.op) {
    case 'exists': {
      const want = test.value ?? true;
      return (p) => {
        const bag = traits ? p.traits : p.features;
        const v = bag[key];
        return (v !== undefined && v !== null && hasOwn.call(bag, key)) === want;
      };
    }
    case 'eq':
    case 'neq': {
      // A scalar is never null or undefined, so `v === c` is false for an absent value.
      const c = test.value;
      if (!isScalar(c)) break;
      if (test.op === 'eq')
        return (p) => {
          const bag = traits ? p.traits : p.features;
          return bag[key] === c && hasOwn.call(bag, key);
        };
      return (p) => {
        const bag = traits ? p.traits : p.features;
        return !(bag[key] === c && hasOwn.call(bag, key));
      };
    }
    case 'in':
    case 'nin': {
      const list = test.value;
      if (!Array.isArray(list) || !list.every(isScalar)) break;
      if (test.op === 'in')
        return (p) => {
          const bag = traits ? p.traits : p.features;
          const v = bag[key];
          for (let i = 0; i < list.length; i += 1) if (v === list[i]) return hasOwn.call(bag, key);
          return false;
        };
      return (p) => {
        const bag = traits ? p.traits : p.features;
        const v = bag[key];
        for (let i = 0; i < list.length; i += 1) if (v === list[i]) return !hasOwn.call(bag, key);
        return true;
      };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const c = test.value;
      // `ordered` maps a comparison to -1/0/1 with `<` and `>`; these are the same tests without
      // it (`cmp >= 0` is `!(v < c)`, which also keeps its answer for NaN).
      if (typeof c === 'number') {
        switch (test.op) {
          case 'gt':
            return (p) => {
              const bag = traits ? p.traits : p.features;
              const v = bag[key];
              return typeof v === 'number' && v > c && hasOwn.call(bag, key);
            };
          case 'gte':
            return (p) => {
              const bag = traits ? p.traits : p.features;
              const v = bag[key];
              return typeof v === 'number' && !(v < c) && hasOwn.call(bag, key);
            };
          case 'lt':
            return (p) => {
              const bag = traits ? p.traits : p.features;
              const v = bag[key];
              return typeof v === 'number' && v < c && hasOwn.call(bag, key);
            };
          case 'lte':
            return (p) => {
              const bag = traits ? p.traits : p.features;
              const v = bag[key];
              return typeof v === 'number' && !(v > c) && hasOwn.call(bag, key);
            };
        }
      }
      if (typeof c === 'string') {
        const accept = test.op === 'gt' ? 1 : test.op === 'gte' ? 0 : test.op === 'lt' ? -1 : -2;
        // Strings are compared by code point; `accept` keeps one closure for the four operators.
        return (p) => {
          const bag = traits ? p.traits : p.features;
          const v = bag[key];
          if (typeof v !== 'string') return false;
          const cmp = compareCodePoints(v, c);
          return (accept === 1 ? cmp > 0 : accept === 0 ? cmp >= 0 : accept === -1 ? cmp < 0 : cmp <= 0) && hasOwn.call(bag, key);
        };
      }
      break;
    }
    case 'between': {
      const [low, high] = test.value;
      if (typeof low === 'number' && typeof high === 'number')
        return (p) => {
          const bag = traits ? p.traits : p.features;
          const v = bag[key];
          return typeof v === 'number' && !(v < low) && !(v > high) && hasOwn.call(bag, key);
        };
      if (typeof low === 'string' && typeof high === 'string')
        return (p) => {
          const bag = traits ? p.traits : p.features;
          const v = bag[key];
          return typeof v === 'string' && compareCodePoints(v, low) >= 0 && compareCodePoints(v, high) <= 0 && hasOwn.call(bag, key);
        };
      break;
    }
    case 'contains': {
      const c = test.value;
      if (!isScalar(c)) break;
      const text = typeof c === 'string';
      return (p) => {
        const bag = traits ? p.traits : p.features;
        const v = bag[key];
        if (typeof v === 'string') return text && v.includes(c as string) && hasOwn.call(bag, key);
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i += 1) if (v[i] === c) return hasOwn.call(bag, key);
        return false;
      };
    }
    case 'startsWith': {
      const c = test.value;
      if (typeof c !== 'string') break;
      return (p) => {
        const bag = traits ? p.traits : p.features;
        const v = bag[key];
        return typeof v === 'string' && v.startsWith(c) && hasOwn.call(bag, key);
      };
    }
  }
  const generic = compileValueTest(test);
  return (p) => {
    const bag = traits ? p.traits : p.features;
    const v = hasOwn.call(bag, key) ? bag[key] : undefined;
    return generic(v === null ? undefined : v);
  };
}

function numberTest(test: NumberTest, scale: (n: number) => number = (n) => n): (n: number) => boolean {
  if (test.op === 'between') {
    const [low, high] = [scale(test.value[0]), scale(test.value[1])];
    return (n) => n >= low && n <= high;
  }
  const c = scale(test.value);
  switch (test.op) {
    case 'eq':
      return (n) => n === c;
    case 'neq':
      return (n) => n !== c;
    case 'gt':
      return (n) => n > c;
    case 'gte':
      return (n) => n >= c;
    case 'lt':
      return (n) => n < c;
    case 'lte':
      return (n) => n <= c;
  }
}

/** An age test as a test of the instant: age ≤ D ⇔ at ≥ now − D, and so on. */
export function ageTest(test: AgeTest): (at: number, now: number) => boolean {
  const duration: Duration = durationOf(test.value);
  switch (test.op) {
    case 'lte':
      return (at, now) => at >= subtractDuration(now, duration);
    case 'lt':
      return (at, now) => at > subtractDuration(now, duration);
    case 'gte':
      return (at, now) => at <= subtractDuration(now, duration);
    case 'gt':
      return (at, now) => at < subtractDuration(now, duration);
  }
}

function behaviourPredicate(condition: BehaviourCondition): SegmentPredicate {
  const event = condition.event;
  const filters = (condition.where ?? []).map((f) => {
    const path = pathOf(f.property);
    const test = compileValueTest(f);
    return (props: Record<string, unknown>) => test(lookup(props, path));
  });
  const within = condition.within ? durationOf(condition.within) : null;
  const matches = (fact: BehaviourFact, from: number) => {
    if (fact.name !== event || fact.at < from) return false;
    for (const filter of filters) if (!filter(fact.props)) return false;
    return true;
  };
  const windowStart = (now: number) => (within ? subtractDuration(now, within) : -Infinity);

  if (condition.sum) {
    const path = pathOf(condition.sum.property);
    const test = numberTest(condition.sum, microUnits);
    return (p, now) => {
      const from = windowStart(now);
      let total = 0;
      for (const fact of p.facts) {
        if (!matches(fact, from)) continue;
        const v = lookup(fact.props, path);
        if (typeof v === 'number') total += microUnits(v);
      }
      return test(total);
    };
  }
  if (condition.first || condition.last) {
    const first = Boolean(condition.first);
    const test = ageTest((condition.first ?? condition.last) as AgeTest);
    return (p, now) => {
      const from = windowStart(now);
      let found = false;
      let at = first ? Infinity : -Infinity;
      for (const fact of p.facts) {
        if (!matches(fact, from)) continue;
        found = true;
        at = first ? Math.min(at, fact.at) : Math.max(at, fact.at);
      }
      return found && test(at, now);
    };
  }
  const test = numberTest(condition.count ?? { op: 'gte', value: 1 });
  return (p, now) => {
    const from = windowStart(now);
    let count = 0;
    for (const fact of p.facts) if (matches(fact, from)) count += 1;
    return test(count);
  };
}
