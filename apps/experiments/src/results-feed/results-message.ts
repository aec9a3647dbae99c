import type { ExperimentMetricLiftV1, ExperimentSegmentResultsV1 } from '@segmenta/contracts';
import type { MetricResult, SegmentResult } from '../results/experiment-results';

/** One segment's row of a metric, compacted for experiments.results: the control, and each treatment's mean and lift against it. */
function metricLift(metric: MetricResult, segment: SegmentResult): ExperimentMetricLiftV1 {
  const [control, ...treatments] = segment.variants;
  return {
    metricKey: metric.key,
    type: metric.type,
    control: { variant: control.key, n: control.n, mean: control.mean },
    variants: treatments.map((variant) => {
      // comparisons hold the treatments in variant order, like variants.slice(1).
      const comparison = segment.comparisons.find((c) => c.variant === variant.key);
      const absolute = comparison?.frequentist?.absolute ?? null;
      return {
        variant: variant.key,
        n: variant.n,
        mean: variant.mean,
        lift: absolute === null ? null : { estimate: absolute.estimate, ci: absolute.ci, pValue: absolute.pValue },
        relativeLift: comparison?.frequentist?.relative?.estimate ?? null,
        pValueAdjusted: comparison?.pValueAdjusted ?? null,
        chanceToBeatControl: comparison?.bayesian?.chanceToBeatControl ?? null,
      };
    }),
  };
}

/** The results by segment (from experimentResults with bySegment) as experiments.results carries them: everyone apart, then one entry per segment. */
export function resultsBySegment(metrics: readonly MetricResult[]): { overall: ExperimentMetricLiftV1[]; segments: ExperimentSegmentResultsV1[] } {
  const overall = metrics.flatMap((m) => m.segments.filter((s) => s.segment === null).map((s) => metricLift(m, s)));
  const segmentKeys = [...new Set(metrics.flatMap((m) => m.segments.map((s) => s.segment)))].filter((k): k is string => k !== null).sort();
  const segments = segmentKeys.map((segmentKey) => ({
    segmentKey,
    metrics: metrics.flatMap((m) => m.segments.filter((s) => s.segment === segmentKey).map((s) => metricLift(m, s))),
  }));
  return { overall, segments };
}
