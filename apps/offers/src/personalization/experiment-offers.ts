import type { ExperimentChangedV1, ServedExperimentV1 } from '@segmenta/contracts';
import { assignVariant } from '@segmenta/stats';

/**
 * Running experiments on the offers a placement serves (issue 21), in process: no call per request.
 * An offer named by a variant of a running experiment on the placement is served only to customers
 * of that variant; customers outside the experiment (not targeted, outside the traffic share, or
 * unknown visitors) get the control's, and are not exposed. Assignment hashes as GrowthBook does.
 */
export function applyExperiments<T extends { key: string }>(
  experiments: readonly ExperimentChangedV1[],
  placement: string | undefined,
  profileId: string | null,
  isMember: (segmentKey: string) => boolean,
  offers: readonly T[],
): { offers: T[]; exposures: ServedExperimentV1[] } {
  let kept = [...offers];
  const exposures: ServedExperimentV1[] = [];
  for (const experiment of experiments) {
    if (experiment.status !== 'running' || placement === undefined || experiment.placement !== placement || experiment.variants.length === 0) continue;
    const named = new Set(experiment.variants.flatMap((v) => v.offers));
    let variant = experiment.variants[0];
    const targeted = experiment.segments.length === 0 || experiment.segments.some(isMember);
    if (profileId !== null && targeted) {
      const assigned = assignVariant({ seed: experiment.seed, trafficShare: experiment.trafficShare, weights: experiment.variants.map((v) => v.weight), namespace: experiment.namespace }, profileId);
      if (assigned.inExperiment) {
        variant = experiment.variants[assigned.variant];
        exposures.push({ experimentId: experiment.experimentId, key: experiment.key, variant: variant.key });
      }
    }
    const allowed = new Set(variant.offers);
    kept = kept.filter((o) => !named.has(o.key) || allowed.has(o.key));
  }
  return { offers: kept, exposures };
}
