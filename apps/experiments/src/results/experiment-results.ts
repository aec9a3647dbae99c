import {
  bayesianCompare,
  checkSampleRatioMismatch,
  confidenceSequence,
  cupedAdjust,
  holmAdjust,
  summarizeMean,
  summarizeProportion,
  welchTest,
  type ArmSummary,
  type BayesianResult,
  type FrequentistResult,
  type SampleRatioMismatch,
  type SequentialResult,
} from '@segmenta/stats';
import type { ExperimentMetric, ExperimentVariant } from '../experiments/experiment-definition';

/**
 * An experiment's results from its streaming aggregates (issue 21), pure: per metric and segment,
 * each variant's mean, and against the control the absolute and relative lift (Welch, the delta
 * method), the chance to beat control and the risk, an always-valid interval, CUPED when a
 * covariate was kept, and per-segment p-values corrected with Holm. The sample-ratio check on the
 * exposure counts comes with every result.
 */

export interface Aggregate {
  variant: string;
  segmentKey: string;
  metricKey: string;
  n: number;
  sumY: number;
  sumY2: number;
  sumX: number;
  sumX2: number;
  sumXY: number;
}

export interface VariantResult {
  key: string;
  name: string;
  n: number;
  /** The mean per exposed customer (a rate for conversion, retention and redemption metrics). */
  mean: number | null;
}

export interface Comparison {
  variant: string;
  frequentist: FrequentistResult | null;
  /** The relative lift's p-value corrected over the segments of this metric and variant (Holm); null for everyone. */
  pValueAdjusted: number | null;
  bayesian: BayesianResult | null;
  sequential: SequentialResult | null;
  /** The absolute lift with CUPED's variance reduction, when a pre-exposure covariate was kept. */
  cuped: { estimate: number; ci: [number, number]; pValue: number } | null;
  /** A guardrail moved the wrong way with p < 0.05. */
  guardrailWarning: boolean;
}

export interface SegmentResult {
  segment: string | null;
  variants: VariantResult[];
  comparisons: Comparison[];
}

export interface MetricResult {
  key: string;
  type: ExperimentMetric['type'];
  guardrail: boolean;
  segments: SegmentResult[];
}

/**
 * Whether a treatment paid for its rewards (issue 22), per segment: its lift in revenue per customer,
 * what its rewards cost per customer against the control's, and the lift in revenue net of reward
 * cost with its interval; `netTotal` scales that to the treatment's customers.
 */
export interface IncrementalRevenue {
  segment: string | null;
  variant: string;
  revenueLift: { estimate: number; ci: [number, number] } | null;
  rewardCostPerCustomer: { control: number | null; variant: number | null };
  netLift: { estimate: number; ci: [number, number]; pValue: number } | null;
  netTotal: { estimate: number; ci: [number, number] } | null;
}

export interface ExperimentResults {
  srm: SampleRatioMismatch & { users: Record<string, number> };
  metrics: MetricResult[];
  /** With a revenue and a net_revenue metric: incremental revenue net of reward cost per treatment and segment. */
  incremental: IncrementalRevenue[];
  warnings: string[];
}

const summary = (metric: ExperimentMetric, a: Aggregate): ArmSummary | null => {
  if (a.n < 2) return null;
  return metric.type !== 'revenue' && metric.type !== 'net_revenue' ? summarizeProportion({ n: a.n, conversions: a.sumY }) : summarizeMean({ n: a.n, sum: a.sumY, sumOfSquares: a.sumY2 });
};

function compare(metric: ExperimentMetric, control: Aggregate, treatment: Aggregate): Omit<Comparison, 'variant' | 'pValueAdjusted'> {
  const c = summary(metric, control);
  const t = summary(metric, treatment);
  const none = { frequentist: null, bayesian: null, sequential: null, cuped: null, guardrailWarning: false };
  if (c === null || t === null || (c.variance === 0 && t.variance === 0)) return none;
  const frequentist = welchTest(c, t);
  let bayesian: BayesianResult | null = null;
  try {
    bayesian = bayesianCompare(c, t);
  } catch {
    bayesian = null; // a control mean of 0: no relative effect to put a posterior on
  }
  const sequential = confidenceSequence(c, t);
  let cuped: Comparison['cuped'] = null;
  const hasCovariate = [control, treatment].every((a) => a.sumX2 - (a.sumX * a.sumX) / a.n > 0);
  if (hasCovariate) {
    const adjusted = cupedAdjust([control, treatment].map((a) => ({ n: a.n, sumY: a.sumY, sumYSquared: a.sumY2, sumX: a.sumX, sumXSquared: a.sumX2, sumXY: a.sumXY })));
    const test = welchTest(adjusted.arms[0].adjusted, adjusted.arms[1].adjusted);
    cuped = { estimate: test.absolute.estimate, ci: test.absolute.ci, pValue: test.absolute.pValue };
  }
  const wrongWay = metric.goodDirection === 'up' ? frequentist.absolute.estimate < 0 : frequentist.absolute.estimate > 0;
  return { frequentist, bayesian, sequential, cuped, guardrailWarning: metric.guardrail && wrongWay && frequentist.absolute.pValue < 0.05 };
}

export function experimentResults(
  variants: readonly ExperimentVariant[],
  metrics: readonly ExperimentMetric[],
  rows: readonly Aggregate[],
  bySegment: boolean,
  exposuresMetric: string,
  /** false for a bandit: its weights move, so exposures are not expected to follow the variants' weights. */
  srmApplies = true,
): ExperimentResults {
  const find = (variant: string, segmentKey: string, metricKey: string): Aggregate =>
    rows.find((r) => r.variant === variant && r.segmentKey === segmentKey && r.metricKey === metricKey) ?? { variant, segmentKey, metricKey, n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 };
  const users = variants.map((v) => find(v.key, '', exposuresMetric).n);
  const checked = checkSampleRatioMismatch(
    users,
    variants.map((v) => v.weight),
  );
  const srm = { ...checked, flagged: srmApplies && checked.flagged, users: Object.fromEntries(variants.map((v, i) => [v.key, users[i]])) };
  const segments = bySegment ? [...new Set(rows.filter((r) => r.segmentKey !== '').map((r) => r.segmentKey))].sort() : [];
  const control = variants[0];
  const results: MetricResult[] = metrics.map((metric) => {
    const perSegment: SegmentResult[] = ['', ...segments].map((segmentKey) => ({
      segment: segmentKey === '' ? null : segmentKey,
      variants: variants.map((v) => {
        const a = find(v.key, segmentKey, metric.key);
        return { key: v.key, name: v.name, n: a.n, mean: a.n > 0 ? a.sumY / a.n : null };
      }),
      comparisons: variants.slice(1).map((v) => ({ variant: v.key, pValueAdjusted: null, ...compare(metric, find(control.key, segmentKey, metric.key), find(v.key, segmentKey, metric.key)) })),
    }));
    // Holm over the segments, per treatment variant: looking at many segments finds lifts by chance.
    for (let i = 0; i < variants.length - 1; i += 1) {
      const bySegments = perSegment.filter((s) => s.segment !== null && s.comparisons[i].frequentist !== null);
      const adjusted = holmAdjust(bySegments.map((s) => (s.comparisons[i].frequentist as FrequentistResult).absolute.pValue));
      bySegments.forEach((s, j) => (s.comparisons[i].pValueAdjusted = adjusted[j]));
    }
    return { key: metric.key, type: metric.type, guardrail: metric.guardrail, segments: perSegment };
  });
  const warnings: string[] = [];
  if (srm.flagged)
    warnings.push(
      `sample-ratio mismatch: p = ${srm.pValue.toPrecision(3)} (< 0.001) for ${users.join(' / ')} exposed at weights ${variants.map((v) => v.weight).join(' / ')}; check the assignment and the tracking before trusting these results`,
    );
  for (const m of results)
    for (const c of m.segments[0].comparisons) if (c.guardrailWarning) warnings.push(`guardrail ${m.key} moved the wrong way in ${c.variant} (p = ${c.frequentist?.absolute.pValue.toPrecision(3)})`);
  return { srm, metrics: results, incremental: incrementalRevenue(metrics, results), warnings };
}

function incrementalRevenue(metrics: readonly ExperimentMetric[], results: MetricResult[]): IncrementalRevenue[] {
  const revenue = results.find((m) => m.type === 'revenue');
  const net = results.find((m) => m.type === 'net_revenue');
  if (!revenue || !net || !metrics.length) return [];
  return net.segments.flatMap((netSegment) => {
    const revenueSegment = revenue.segments.find((s) => s.segment === netSegment.segment);
    const control = netSegment.variants[0];
    const costOf = (key: string): number | null => {
      const gross = revenueSegment?.variants.find((v) => v.key === key)?.mean ?? null;
      const after = netSegment.variants.find((v) => v.key === key)?.mean ?? null;
      return gross === null || after === null ? null : gross - after;
    };
    return netSegment.comparisons.map((c): IncrementalRevenue => {
      const gross = revenueSegment?.comparisons.find((r) => r.variant === c.variant)?.frequentist?.absolute ?? null;
      const lift = c.frequentist?.absolute ?? null;
      const n = netSegment.variants.find((v) => v.key === c.variant)?.n ?? 0;
      return {
        segment: netSegment.segment,
        variant: c.variant,
        revenueLift: gross === null ? null : { estimate: gross.estimate, ci: gross.ci },
        rewardCostPerCustomer: { control: costOf(control.key), variant: costOf(c.variant) },
        netLift: lift === null ? null : { estimate: lift.estimate, ci: lift.ci, pValue: lift.pValue },
        netTotal: lift === null ? null : { estimate: lift.estimate * n, ci: [lift.ci[0] * n, lift.ci[1] * n] },
      };
    });
  });
}
