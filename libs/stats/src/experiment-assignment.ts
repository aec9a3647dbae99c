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
  const bucket = hash(rules.seed, customerId, 2) as number;
  if (rules.namespace !== null && !inNamespace(customerId, [rules.namespace.id, rules.namespace.start, rules.namespace.end])) return { inExperiment: false, reason: 'namespace', bucket };
  const variant = chooseVariation(bucket, getBucketRanges(rules.weights.length, rules.trafficShare, rules.weights));
  return variant < 0 ? { inExperiment: false, reason: 'traffic', bucket } : { inExperiment: true, variant, bucket };
}
