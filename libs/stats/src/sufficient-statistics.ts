/**
 * Arms are passed as sufficient statistics (what a warehouse query returns per variation), never
 * as rows, so the tests below run on any number of users at the same cost.
 */

/** n, Σx and Σx² of a metric over the users of one arm. */
export interface MeanStatistics {
  n: number;
  sum: number;
  sumOfSquares: number;
}

/** Users who converted out of n in one arm. */
export interface ProportionStatistics {
  n: number;
  conversions: number;
}

/** What the tests need of an arm: its size, its mean and the variance of one user's value. */
export interface ArmSummary {
  n: number;
  mean: number;
  variance: number;
}

/** An effect and the variance of its estimate. */
export interface EffectWithVariance {
  estimate: number;
  variance: number;
}

/** Mean and sample variance (Σx² − (Σx)²/n)/(n − 1); negative rounding residue is clamped to 0. */
export function summarizeMean(stats: MeanStatistics): ArmSummary {
  const { n, sum, sumOfSquares } = stats;
  if (!(n >= 2)) throw new RangeError(`a mean's variance needs n ≥ 2, got ${n}`);
  return { n, mean: sum / n, variance: Math.max(0, (sumOfSquares - (sum * sum) / n) / (n - 1)) };
}

/** Conversion rate p and the Bernoulli variance p(1 − p). */
export function summarizeProportion(stats: ProportionStatistics): ArmSummary {
  const { n, conversions } = stats;
  if (!(n >= 1)) throw new RangeError(`a proportion needs n ≥ 1, got ${n}`);
  if (!(conversions >= 0 && conversions <= n)) throw new RangeError(`conversions must be within [0, n], got ${conversions} of ${n}`);
  const p = conversions / n;
  return { n, mean: p, variance: p * (1 - p) };
}

/** m_B − m_A with variance v_A/n_A + v_B/n_B. */
export function absoluteEffect(control: ArmSummary, treatment: ArmSummary): EffectWithVariance {
  return { estimate: treatment.mean - control.mean, variance: control.variance / control.n + treatment.variance / treatment.n };
}

/**
 * (m_B − m_A)/|m_A| with the delta-method variance v_B/(n_B·m_A²) + v_A·m_B²/(n_A·m_A⁴); null when
 * the control mean is 0, where a relative change has no meaning.
 */
export function relativeEffect(control: ArmSummary, treatment: ArmSummary): EffectWithVariance | null {
  const mA = control.mean;
  const mB = treatment.mean;
  if (mA === 0) return null;
  return {
    estimate: (mB - mA) / Math.abs(mA),
    variance: treatment.variance / (treatment.n * mA * mA) + (control.variance * mB * mB) / (control.n * mA ** 4),
  };
}

/** Welch–Satterthwaite degrees of freedom of m_B − m_A (n_A + n_B − 2 when both variances are 0). */
export function welchDegreesOfFreedom(control: ArmSummary, treatment: ArmSummary): number {
  const a = control.variance / control.n;
  const b = treatment.variance / treatment.n;
  const denominator = (a * a) / (control.n - 1) + (b * b) / (treatment.n - 1);
  return denominator > 0 ? (a + b) ** 2 / denominator : control.n + treatment.n - 2;
}
