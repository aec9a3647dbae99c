import { studentTQuantile, studentTSurvival } from './distributions';
import { absoluteEffect, relativeEffect, summarizeMean, summarizeProportion, welchDegreesOfFreedom, type ArmSummary, type MeanStatistics, type ProportionStatistics } from './sufficient-statistics';

/** An effect with its standard error, (1 − α) confidence interval and two-sided p-value. */
export interface EffectEstimate {
  estimate: number;
  se: number;
  ci: [lower: number, upper: number];
  pValue: number;
}

export interface FrequentistResult {
  absolute: EffectEstimate;
  /** Null when the control mean is 0. */
  relative: EffectEstimate | null;
  /** Welch–Satterthwaite, used for both the absolute and the relative effect. */
  degreesOfFreedom: number;
}

export interface FrequentistOptions {
  /** Two-sided significance level; 0.05 unless given. */
  alpha?: number;
}

/** Two-sided t inference on an estimate with standard error se and ν degrees of freedom. */
export function tInference(estimate: number, se: number, degreesOfFreedom: number, alpha = 0.05): EffectEstimate {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  // No spread at all: the estimate is exact, so it either is the null value or is infinitely far from it.
  if (se === 0) return { estimate, se, ci: [estimate, estimate], pValue: estimate === 0 ? 1 : 0 };
  const halfWidth = studentTQuantile(1 - alpha / 2, degreesOfFreedom) * se;
  return { estimate, se, ci: [estimate - halfWidth, estimate + halfWidth], pValue: 2 * studentTSurvival(Math.abs(estimate / se), degreesOfFreedom) };
}

/** Welch's t-test of treatment against control, on the absolute and the relative difference of means. */
export function welchTest(control: ArmSummary, treatment: ArmSummary, options: FrequentistOptions = {}): FrequentistResult {
  if (!(control.n >= 2 && treatment.n >= 2)) throw new RangeError(`Welch's test needs n ≥ 2 in each arm, got ${control.n} and ${treatment.n}`);
  const alpha = options.alpha ?? 0.05;
  const degreesOfFreedom = welchDegreesOfFreedom(control, treatment);
  const absolute = absoluteEffect(control, treatment);
  const relative = relativeEffect(control, treatment);
  return {
    absolute: tInference(absolute.estimate, Math.sqrt(absolute.variance), degreesOfFreedom, alpha),
    relative: relative && tInference(relative.estimate, Math.sqrt(relative.variance), degreesOfFreedom, alpha),
    degreesOfFreedom,
  };
}

/** Welch's t-test on a mean metric given Σx, Σx² and n per arm. */
export function compareMeans(control: MeanStatistics, treatment: MeanStatistics, options: FrequentistOptions = {}): FrequentistResult {
  return welchTest(summarizeMean(control), summarizeMean(treatment), options);
}

/** Two-proportion test (variance p(1 − p), Welch degrees of freedom) on conversions out of n per arm. */
export function compareProportions(control: ProportionStatistics, treatment: ProportionStatistics, options: FrequentistOptions = {}): FrequentistResult {
  return welchTest(summarizeProportion(control), summarizeProportion(treatment), options);
}
