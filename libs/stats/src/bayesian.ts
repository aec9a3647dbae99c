import { logBeta, normalCdf, normalPdf, normalQuantile, regularizedIncompleteBeta } from './distributions';
import { relativeEffect, summarizeMean, summarizeProportion, type ArmSummary, type MeanStatistics, type ProportionStatistics } from './sufficient-statistics';

/**
 * Bayesian read-out with a flat prior on the relative effect, so the posterior is
 * N(estimate, se²) of the delta method (as GrowthBook's engine reports it).
 */
export interface BayesianResult {
  /** Posterior mean of the relative effect (m_B − m_A)/|m_A|. */
  estimate: number;
  /** Posterior standard deviation. */
  sd: number;
  /** Central (1 − α) credible interval. */
  ci: [lower: number, upper: number];
  /** P(effect > 0). */
  chanceToBeatControl: number;
  /** Expected loss: [of choosing control = E[max(effect, 0)], of choosing treatment = E[max(−effect, 0)]]. */
  risk: [control: number, treatment: number];
}

export interface BayesianOptions {
  /** For the credible interval; 0.05 unless given. */
  alpha?: number;
}

/** Chance to beat control, risk and credible interval of a N(mean, sd²) posterior of the effect. */
export function normalPosteriorSummary(mean: number, sd: number, alpha = 0.05): BayesianResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (sd === 0) return { estimate: mean, sd, ci: [mean, mean], chanceToBeatControl: mean > 0 ? 1 : mean < 0 ? 0 : 0.5, risk: [Math.max(mean, 0), Math.max(-mean, 0)] };
  const z = mean / sd;
  const halfWidth = normalQuantile(1 - alpha / 2) * sd;
  // E[max(X, 0)] = μΦ(μ/σ) + σφ(μ/σ); each side computed directly rather than as the other minus μ.
  const density = sd * normalPdf(z);
  return {
    estimate: mean,
    sd,
    ci: [mean - halfWidth, mean + halfWidth],
    chanceToBeatControl: normalCdf(z),
    risk: [mean * normalCdf(z) + density, -mean * normalCdf(-z) + density],
  };
}

/** Bayesian comparison of two arms on the relative effect; the control mean must not be 0. */
export function bayesianCompare(control: ArmSummary, treatment: ArmSummary, options: BayesianOptions = {}): BayesianResult {
  const relative = relativeEffect(control, treatment);
  if (!relative) throw new RangeError('the relative effect is undefined when the control mean is 0');
  return normalPosteriorSummary(relative.estimate, Math.sqrt(relative.variance), options.alpha);
}

/** Bayesian comparison of conversion rates. */
export function bayesianCompareProportions(control: ProportionStatistics, treatment: ProportionStatistics, options: BayesianOptions = {}): BayesianResult {
  return bayesianCompare(summarizeProportion(control), summarizeProportion(treatment), options);
}

/** Bayesian comparison of means given Σx, Σx² and n per arm. */
export function bayesianCompareMeans(control: MeanStatistics, treatment: MeanStatistics, options: BayesianOptions = {}): BayesianResult {
  return bayesianCompare(summarizeMean(control), summarizeMean(treatment), options);
}

const INTEGRATION_INTERVALS = 2000;
/** Beyond 40 sd a Beta(a ≥ 1, b ≥ 1) density is below 1e-20 of its peak. */
const INTEGRATION_HALF_WIDTH_SDS = 40;

/**
 * P(p_B > p_A) with independent uniform priors, so posteriors Beta(1 + x, 1 + n − x):
 * ∫ f(t)·F(t) dt by Simpson's rule over the narrower posterior's density f, where the wider
 * posterior's CDF F is smooth on the grid.
 */
export function betaBinomialChanceToBeatControl(control: ProportionStatistics, treatment: ProportionStatistics): number {
  for (const arm of [control, treatment]) {
    if (!(arm.n >= 0 && arm.conversions >= 0 && arm.conversions <= arm.n)) throw new RangeError(`conversions must be within [0, n], got ${arm.conversions} of ${arm.n}`);
  }
  const posterior = (arm: ProportionStatistics) => ({ a: 1 + arm.conversions, b: 1 + arm.n - arm.conversions });
  const a = posterior(control);
  const b = posterior(treatment);
  const sd = ({ a: x, b: y }: { a: number; b: number }) => Math.sqrt((x * y) / ((x + y) ** 2 * (x + y + 1)));
  // P(B > A) = ∫ f_B·F_A, or 1 − ∫ f_A·F_B when A is the narrower one.
  return sd(b) <= sd(a) ? integrateDensityTimesCdf(b, a) : 1 - integrateDensityTimesCdf(a, b);
}

/** ∫₀¹ Beta(t; dens)·I_t(cdf) dt. */
function integrateDensityTimesCdf(dens: { a: number; b: number }, cdf: { a: number; b: number }): number {
  const mean = dens.a / (dens.a + dens.b);
  const sd = Math.sqrt((dens.a * dens.b) / ((dens.a + dens.b) ** 2 * (dens.a + dens.b + 1)));
  const lower = Math.max(0, mean - INTEGRATION_HALF_WIDTH_SDS * sd);
  const upper = Math.min(1, mean + INTEGRATION_HALF_WIDTH_SDS * sd);
  const logNorm = logBeta(dens.a, dens.b);
  const density = (t: number) => {
    // At the ends t^(a−1) is 1 for a = 1 and 0 for a > 1 (likewise (1 − t)^(b−1)); the logs would give 0·(−∞).
    if (t <= 0) return dens.a === 1 ? Math.exp(-logNorm) : 0;
    if (t >= 1) return dens.b === 1 ? Math.exp(-logNorm) : 0;
    return Math.exp((dens.a - 1) * Math.log(t) + (dens.b - 1) * Math.log1p(-t) - logNorm);
  };
  const h = (upper - lower) / INTEGRATION_INTERVALS;
  let sum = 0;
  for (let i = 0; i <= INTEGRATION_INTERVALS; i += 1) {
    const t = lower + i * h;
    const weight = i === 0 || i === INTEGRATION_INTERVALS ? 1 : i % 2 === 1 ? 4 : 2;
    sum += weight * density(t) * regularizedIncompleteBeta(t, cdf.a, cdf.b);
  }
  return Math.min(1, Math.max(0, (sum * h) / 3));
}
