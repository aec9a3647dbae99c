import { banditAllocations, type BanditArms } from '@segmenta/stats';
import type { ExperimentMetric } from '../experiments/experiment-definition';
import type { Aggregate } from './experiment-results';

/**
 * A bandit's weights per targeted segment (issue 22), pure: each segment's arms are the variants'
 * aggregates of the bandit's metric in that segment (a rate as Beta posteriors, a mean by its
 * normal approximation), allocated by Thompson sampling with a floor per variant. `random` makes
 * a test reproducible.
 */
export function banditWeights(
  variants: readonly string[],
  segments: readonly string[],
  metric: Pick<ExperimentMetric, 'key' | 'type'>,
  rows: readonly Pick<Aggregate, 'variant' | 'segmentKey' | 'metricKey' | 'n' | 'sumY' | 'sumY2'>[],
  floor: number,
  random?: () => number,
): Record<string, number[]> {
  const arm = (variant: string, segmentKey: string) => rows.find((r) => r.variant === variant && r.segmentKey === segmentKey && r.metricKey === metric.key) ?? { n: 0, sumY: 0, sumY2: 0 };
  const bySegment: Record<string, BanditArms> = {};
  for (const segment of segments) {
    const arms = variants.map((v) => arm(v, segment));
    bySegment[segment] =
      metric.type === 'revenue' || metric.type === 'net_revenue'
        ? { kind: 'mean', arms: arms.map((a) => ({ n: Number(a.n), sum: a.sumY, sumOfSquares: a.sumY2 })) }
        : { kind: 'conversion', arms: arms.map((a) => ({ n: Number(a.n), conversions: Math.min(Math.max(a.sumY, 0), Number(a.n)) })) };
  }
  return banditAllocations(bySegment, { floor, ...(random ? { random } : {}) });
}
