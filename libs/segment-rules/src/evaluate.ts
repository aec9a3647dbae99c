import { isAll, isAny, isBehaviour, isFeature, isMembership, isNot, isTrait, pathOf, type AgeTest, type BehaviourCondition, type NumberTest, type SegmentDefinition } from './definition';
import { durationOf, subtractDuration, type Duration } from './duration';
import { compileValueTest, lookup, microUnits } from './values';

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
  if (isTrait(definition)) return profileValueTest('traits', definition.trait, compileValueTest(definition));
  if (isFeature(definition)) return profileValueTest('features', definition.feature, compileValueTest(definition));
  if (isMembership(definition)) {
    const key = definition.inSegment;
    return (p) => p.segments?.has(key) ?? false;
  }
  if (isBehaviour(definition)) return behaviourPredicate(definition);
  throw new Error('not a validated segment definition');
}

function profileValueTest(source: 'traits' | 'features', name: string, test: (v: unknown) => boolean): SegmentPredicate {
  const path = pathOf(name);
  if (path.length === 1) {
    const key = path[0];
    return (p) => {
      const bag = p[source];
      const v = Object.prototype.hasOwnProperty.call(bag, key) ? bag[key] : undefined;
      return test(v === null ? undefined : v);
    };
  }
  return (p) => test(lookup(p[source], path));
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
