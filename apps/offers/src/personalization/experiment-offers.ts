import type { ExperimentChangedV1, ServedExperimentV1 } from '@segmenta/contracts';
import { banditSegmentOf, compileAssignment, type Assignment } from '@segmenta/stats';

/**
 * Running experiments on the offers a placement serves (issue 21), in process: no call per request.
 * An offer named by a variant of a running experiment on the placement is served only to customers
 * of that variant; customers outside the experiment (not targeted, outside the traffic share, or
 * unknown visitors) get the control's, and are not exposed. Assignment hashes as GrowthBook does.
 */
/** Each experiment's assignment (per bandit segment too), its ranges worked out once: the rules objects live as long as the catalog snapshot that holds them. */
const compiled = new WeakMap<ExperimentChangedV1, Map<string, (customerId: string) => Assignment>>();

/** The experiment's assignment: by its variants' weights, or by a bandit's weights for `segment` (issue 22). */
export function assignmentOf(experiment: ExperimentChangedV1, segment = ''): (customerId: string) => Assignment {
  let bySegment = compiled.get(experiment);
  if (!bySegment) {
    bySegment = new Map();
    compiled.set(experiment, bySegment);
  }
  let assign = bySegment.get(segment);
  if (!assign) {
    const weights = (segment === '' ? undefined : experiment.segmentWeights?.[segment]) ?? experiment.variants.map((v) => v.weight);
    assign = compileAssignment({ seed: experiment.seed, trafficShare: experiment.trafficShare, weights, namespace: experiment.namespace });
    bySegment.set(segment, assign);
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
      // A bandit splits each segment by its own weights: the first targeted segment the customer is in.
      const segment = banditSegmentOf(experiment.segments, experiment.segmentWeights, isMember) ?? '';
      const assigned = assignmentOf(experiment, segment)(profileId);
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
