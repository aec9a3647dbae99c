import type { ExperimentChangedV1, ServedExperimentV1 } from '@segmenta/contracts';
import { compileAssignment, type Assignment } from '@segmenta/stats';

/**
 * Running experiments on the offers a placement serves (issue 21), in process: no call per request.
 * An offer named by a variant of a running experiment on the placement is served only to customers
 * of that variant; customers outside the experiment (not targeted, outside the traffic share, or
 * unknown visitors) get the control's, and are not exposed. Assignment hashes as GrowthBook does.
 */
/** Each experiment's assignment, its ranges worked out once: the rules objects live as long as the catalog snapshot that holds them. */
const compiled = new WeakMap<ExperimentChangedV1, (customerId: string) => Assignment>();

export function assignmentOf(experiment: ExperimentChangedV1): (customerId: string) => Assignment {
  let assign = compiled.get(experiment);
  if (!assign) {
    assign = compileAssignment({ seed: experiment.seed, trafficShare: experiment.trafficShare, weights: experiment.variants.map((v) => v.weight), namespace: experiment.namespace });
    compiled.set(experiment, assign);
  }
  return assign;
}

export function applyExperiments<T extends { key: string }>(
  experiments: readonly ExperimentChangedV1[],
  placement: string | undefined,
  profileId: string | null,
  isMember: (segmentKey: string) => boolean,
  offers: readonly T[],
): { offers: T[]; exposures: ServedExperimentV1[] } {
  // The offers as given (not a copy) when no experiment runs on the placement: the common case on a hot route.
  let kept: readonly T[] = offers;
  const exposures: ServedExperimentV1[] = [];
  for (const experiment of experiments) {
    if (experiment.status !== 'running' || placement === undefined || experiment.placement !== placement || experiment.variants.length === 0) continue;
    const named = new Set(experiment.variants.flatMap((v) => v.offers));
    let variant = experiment.variants[0];
    const targeted = experiment.segments.length === 0 || experiment.segments.some(isMember);
    if (profileId !== null && targeted) {
      const assigned = assignmentOf(experiment)(profileId);
      if (assigned.inExperiment) {
        variant = experiment.variants[assigned.variant];
        exposures.push({ experimentId: experiment.experimentId, key: experiment.key, variant: variant.key });
      }
    }
    const allowed = new Set(variant.offers);
    kept = kept.filter((o) => !named.has(o.key) || allowed.has(o.key));
  }
  return { offers: kept as T[], exposures };
}
