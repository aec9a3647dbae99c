import { chooseVariation, getBucketRanges, hash, inNamespace } from './growthbook-hashing';

/** What assignment needs of an experiment: GrowthBook's seed, coverage, weights and namespace. */
export interface AssignmentRules {
  seed: string;
  /** GrowthBook's coverage, 0–1. */
  trafficShare: number;
  weights: readonly number[];
  namespace: { id: string; start: number; end: number } | null;
}

export type Assignment = { inExperiment: true; variant: number; bucket: number } | { inExperiment: false; reason: 'namespace' | 'traffic'; bucket: number };

/**
 * The variant a customer gets (as GrowthBook's `run` picks it for hashAttribute = the customer id,
 * hash version 2): outside the namespace's slice, or outside every range (the traffic share), they
 * are not in the experiment. Deterministic: the same id always gets the same answer, and raising
 * the traffic share only adds customers.
 */
export function assignVariant(rules: AssignmentRules, customerId: string): Assignment {
  return compileAssignment(rules)(customerId);
}

/** `assignVariant` for one experiment, its ranges worked out once: what a service assigning many customers keeps. */
export function compileAssignment(rules: AssignmentRules): (customerId: string) => Assignment {
  const ranges = getBucketRanges(rules.weights.length, rules.trafficShare, rules.weights);
  const namespace = rules.namespace === null ? null : ([rules.namespace.id, rules.namespace.start, rules.namespace.end] as [string, number, number]);
  return (customerId) => {
    const bucket = hash(rules.seed, customerId, 2) as number;
    if (namespace !== null && !inNamespace(customerId, namespace)) return { inExperiment: false, reason: 'namespace', bucket };
    const variant = chooseVariation(bucket, ranges);
    return variant < 0 ? { inExperiment: false, reason: 'traffic', bucket } : { inExperiment: true, variant, bucket };
  };
}

/**
 * The targeted segment whose bandit weights split a customer (issue 22): the first of the
 * experiment's targeted segments, in their order, that has weights and the customer is in;
 * undefined: the variants' own weights. Every service that assigns a bandit uses this rule, so
 * the same customer lands in the same variant whichever service asks.
 */
export function banditSegmentOf(
  targeted: readonly string[],
  segmentWeights: Readonly<Record<string, readonly number[]>> | null | undefined,
  isMember: (segment: string) => boolean,
): string | undefined {
  if (!segmentWeights) return undefined;
  return targeted.find((segment) => segmentWeights[segment] !== undefined && isMember(segment));
}
