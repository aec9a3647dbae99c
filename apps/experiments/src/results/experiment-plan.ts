import type { ApiErrorDetail } from '@segmenta/contracts';
import { experimentDurationDays, sampleSizePerArmForMeans, sampleSizePerArmForProportions } from '@segmenta/stats';

/**
 * The sample-size and duration calculator (issue 21), pure: how many customers each variant needs
 * to detect a lift with the given power, and how many days the traffic takes to bring them. With
 * more than one treatment, α is split over the comparisons with the control (Bonferroni), as the
 * results compare each treatment with it.
 */
export interface ExperimentPlanInput {
  /** conversion: a rate (baseline 0–1); mean: a per-customer mean such as revenue (standardDeviation). */
  metric: 'conversion' | 'mean';
  baseline?: number;
  standardDeviation?: number;
  /** The smallest lift worth detecting: absolute (points of the rate, units of the mean) or relative to the baseline. */
  absoluteLift?: number;
  relativeLift?: number;
  /** Variants including the control (2 unless given). */
  variants?: number;
  alpha?: number;
  power?: number;
  /** Eligible customers a day, for the duration. */
  dailyTraffic?: number;
  trafficShare?: number;
}

export interface ExperimentPlan {
  perVariant: number;
  total: number;
  /** Days until every variant has its sample; null without daily traffic. */
  days: number | null;
  absoluteLift: number;
  alphaPerComparison: number;
  power: number;
  variants: number;
}

export function planExperiment(input: ExperimentPlanInput): { ok: true; plan: ExperimentPlan } | { ok: false; problems: ApiErrorDetail[] } {
  const problems: ApiErrorDetail[] = [];
  const variants = input.variants ?? 2;
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  if ((input.absoluteLift === undefined) === (input.relativeLift === undefined))
    problems.push({ field: 'absoluteLift', problem: 'give the smallest lift worth detecting as absoluteLift or relativeLift (one of them)' });
  if (input.metric === 'conversion') {
    if (input.baseline === undefined || !(input.baseline > 0 && input.baseline < 1)) problems.push({ field: 'baseline', problem: 'a conversion needs its baseline rate, above 0 and below 1' });
    if (input.standardDeviation !== undefined) problems.push({ field: 'standardDeviation', problem: 'is for mean metrics (a rate’s spread follows from its baseline)' });
  } else {
    if (input.standardDeviation === undefined || !(input.standardDeviation > 0)) problems.push({ field: 'standardDeviation', problem: 'a mean needs the per-customer standard deviation, above 0' });
    if (input.relativeLift !== undefined && (input.baseline === undefined || !(input.baseline > 0)))
      problems.push({ field: 'baseline', problem: 'a relative lift of a mean needs the baseline mean, above 0' });
  }
  if (input.trafficShare !== undefined && input.dailyTraffic === undefined) problems.push({ field: 'dailyTraffic', problem: 'is needed with trafficShare (the duration comes from both)' });
  if (problems.length > 0) return { ok: false, problems };
  const absoluteLift = input.absoluteLift ?? (input.baseline as number) * (input.relativeLift as number);
  if (absoluteLift === 0) return { ok: false, problems: [{ field: input.absoluteLift === undefined ? 'relativeLift' : 'absoluteLift', problem: 'must not be 0' }] };
  if (input.metric === 'conversion' && !((input.baseline as number) + absoluteLift > 0 && (input.baseline as number) + absoluteLift < 1))
    return { ok: false, problems: [{ field: input.absoluteLift === undefined ? 'relativeLift' : 'absoluteLift', problem: 'takes the rate outside 0–1' }] };
  const alphaPerComparison = alpha / (variants - 1);
  const exact =
    input.metric === 'conversion'
      ? sampleSizePerArmForProportions(input.baseline as number, absoluteLift, { alpha: alphaPerComparison, power })
      : sampleSizePerArmForMeans(input.standardDeviation as number, absoluteLift, { alpha: alphaPerComparison, power });
  const perVariant = Math.ceil(exact);
  const days =
    input.dailyTraffic === undefined ? null : experimentDurationDays({ sampleSizePerArm: perVariant, arms: variants, dailyTraffic: input.dailyTraffic, trafficShare: input.trafficShare ?? 1 });
  return { ok: true, plan: { perVariant, total: perVariant * variants, days, absoluteLift, alphaPerComparison, power, variants } };
}
