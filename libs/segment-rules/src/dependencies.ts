import { isAll, isAny, isBehaviour, isFeature, isMembership, isNot, isTrait, pathOf, type SegmentDefinition } from './definition';

/**
 * What a definition reads, so that an update re-evaluates only the segments it can affect: a
 * profiles.updated that changed trait `country` concerns the segments whose `traits` hold it.
 */
export interface RuleDependencies {
  /** Top-level trait keys (`address` for `address.city`). */
  traits: string[];
  features: string[];
  events: string[];
  /** Keys of the segments read through `inSegment`. */
  segments: string[];
  /** Whether time alone can change the outcome (`within`, `first`, `last`): re-evaluate on a schedule too. */
  timeDependent: boolean;
}

export function extractDependencies(definition: SegmentDefinition): RuleDependencies {
  const traits = new Set<string>();
  const features = new Set<string>();
  const events = new Set<string>();
  const segments = new Set<string>();
  let timeDependent = false;
  const visit = (node: SegmentDefinition): void => {
    if (isAll(node)) node.all.forEach(visit);
    else if (isAny(node)) node.any.forEach(visit);
    else if (isNot(node)) visit(node.not);
    else if (isTrait(node)) traits.add(pathOf(node.trait)[0]);
    else if (isFeature(node)) features.add(pathOf(node.feature)[0]);
    else if (isMembership(node)) segments.add(node.inSegment);
    else if (isBehaviour(node)) {
      events.add(node.event);
      if (node.within || node.first || node.last) timeDependent = true;
    }
  };
  visit(definition);
  const sorted = (set: Set<string>) => [...set].sort();
  return { traits: sorted(traits), features: sorted(features), events: sorted(events), segments: sorted(segments), timeDependent };
}

/**
 * The first `inSegment` cycle among definitions (keys in order, the first repeated at the end), or
 * null: a segment may not depend on itself through others.
 */
export function findMembershipCycle(dependsOn: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (key: string): string[] | null => {
    if (state.get(key) === 'done') return null;
    if (state.get(key) === 'visiting') return [...stack.slice(stack.indexOf(key)), key];
    state.set(key, 'visiting');
    stack.push(key);
    for (const next of dependsOn.get(key) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(key, 'done');
    return null;
  };
  for (const key of [...dependsOn.keys()].sort()) {
    const cycle = visit(key);
    if (cycle) return cycle;
  }
  return null;
}

/** Keys ordered so that every segment comes after the segments it reads (assumes no cycle). */
export function evaluationOrder(dependsOn: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const next of dependsOn.get(key) ?? []) visit(next);
    if (dependsOn.has(key)) order.push(key);
  };
  for (const key of [...dependsOn.keys()].sort()) visit(key);
  return order;
}

/**
 * A point in a fact's age at which a condition's outcome can flip: once a fact of `event` is
 * older than `duration` it has left a `within` window, or made a `first`/`last` age test pass or
 * fail. Between two evaluations at t0 and t1, only profiles with such a fact that occurred between
 * t0 − duration and t1 − duration can change for time alone (`factsCrossing`).
 */
export interface TimeBoundary {
  event: string;
  duration: string;
}

/** The distinct boundaries of a definition's behaviour conditions (none: time alone changes nothing). */
export function timeBoundaries(definition: SegmentDefinition): TimeBoundary[] {
  const found = new Map<string, TimeBoundary>();
  const add = (event: string, duration: string | undefined) => {
    if (duration !== undefined) found.set(JSON.stringify([event, duration]), { event, duration });
  };
  const visit = (node: SegmentDefinition): void => {
    if (isAll(node)) node.all.forEach(visit);
    else if (isAny(node)) node.any.forEach(visit);
    else if (isNot(node)) visit(node.not);
    else if (isBehaviour(node)) {
      add(node.event, node.within);
      add(node.event, node.first?.value);
      add(node.event, node.last?.value);
    }
  };
  visit(definition);
  return [...found.values()].sort((a, b) => a.event.localeCompare(b.event) || a.duration.localeCompare(b.duration));
}
