import { absoluteEffect, type ArmSummary } from './sufficient-statistics';

/**
 * Always-valid inference for peeking: the asymptotic confidence sequence of Waudby-Smith et al.
 * (2023, arXiv 2103.06476 eq. 9, as GrowthBook's engine uses it) for m_B − m_A. Its interval holds
 * at every look simultaneously with probability 1 − α, so stopping at the first significant look
 * keeps the false-positive rate at α; a fixed-horizon test read at every look does not.
 */

export interface SequentialOptions {
  /** 0.05 unless given. */
  alpha?: number;
  /** Total users (both arms) at which the interval is made narrowest; 5,000 unless given. */
  tuningSampleSize?: number;
}

export interface SequentialResult {
  estimate: number;
  se: number;
  /** Confidence sequence at this look. */
  ci: [lower: number, upper: number];
  /** Always-valid p-value: below α exactly when the interval excludes 0. */
  pValue: number;
}

/** The mixture's ρ² that makes the sequence tightest at the tuning sample size (ibid. eq. 161). */
function mixingRhoSquared(alpha: number, tuningSampleSize: number): number {
  const logTerm = -2 * Math.log(alpha);
  return (logTerm + Math.log(logTerm + 1)) / tuningSampleSize;
}

/** Confidence sequence and always-valid p-value for the absolute difference of two arms at one look. */
export function confidenceSequence(control: ArmSummary, treatment: ArmSummary, options: SequentialOptions = {}): SequentialResult {
  const alpha = options.alpha ?? 0.05;
  const tuningSampleSize = options.tuningSampleSize ?? 5000;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(tuningSampleSize > 0)) throw new RangeError(`tuningSampleSize must be positive, got ${tuningSampleSize}`);
  const { estimate, variance } = absoluteEffect(control, treatment);
  const se = Math.sqrt(variance);
  if (se === 0) return { estimate, se, ci: [estimate, estimate], pValue: estimate === 0 ? 1 : 0 };
  // With r = Nρ², the mixture martingale at z = estimate/se is e^{z²r/(2(r+1))}/√(r+1); the
  // interval is where it stays below 1/α, and the p-value is its reciprocal.
  const r = (control.n + treatment.n) * mixingRhoSquared(alpha, tuningSampleSize);
  const halfWidth = se * Math.sqrt((2 * (r + 1) * Math.log(Math.sqrt(r + 1) / alpha)) / r);
  const z = estimate / se;
  const pValue = Math.min(1, Math.sqrt(r + 1) * Math.exp((-z * z * r) / (2 * (r + 1))));
  return { estimate, se, ci: [estimate - halfWidth, estimate + halfWidth], pValue };
}
