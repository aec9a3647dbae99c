import { normalQuantile } from './distributions';

/** Planning inputs shared by both metric kinds. */
export interface PowerOptions {
  /** Two-sided significance level; 0.05 unless given. */
  alpha?: number;
  /** Probability of detecting the lift if it is real; 0.8 unless given. */
  power?: number;
}

function criticalValues({ alpha = 0.05, power = 0.8 }: PowerOptions): { zAlpha: number; zPower: number } {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  return { zAlpha: normalQuantile(1 - alpha / 2), zPower: normalQuantile(power) };
}

/**
 * Users per arm to detect an absolute lift δ on a baseline conversion rate p (not rounded up):
 * (z_{1−α/2}·√(2p(1−p)) + z_power·√(p(1−p) + (p+δ)(1−p−δ)))²/δ² — the variance under the null
 * for the critical value, under the alternative for the power.
 */
export function sampleSizePerArmForProportions(baseline: number, absoluteLift: number, options: PowerOptions = {}): number {
  const treated = baseline + absoluteLift;
  if (!(baseline > 0 && baseline < 1 && treated > 0 && treated < 1)) throw new RangeError(`baseline and baseline + lift must lie in (0, 1), got ${baseline} and ${treated}`);
  if (absoluteLift === 0) throw new RangeError('a lift of 0 needs infinitely many users');
  const { zAlpha, zPower } = criticalValues(options);
  const nullSd = Math.sqrt(2 * baseline * (1 - baseline));
  const alternativeSd = Math.sqrt(baseline * (1 - baseline) + treated * (1 - treated));
  return (zAlpha * nullSd + zPower * alternativeSd) ** 2 / absoluteLift ** 2;
}

/** Users per arm to detect an absolute lift δ of a mean with standard deviation σ: 2σ²(z_{1−α/2} + z_power)²/δ² (not rounded up). */
export function sampleSizePerArmForMeans(standardDeviation: number, absoluteLift: number, options: PowerOptions = {}): number {
  if (!(standardDeviation > 0)) throw new RangeError(`standardDeviation must be positive, got ${standardDeviation}`);
  if (absoluteLift === 0) throw new RangeError('a lift of 0 needs infinitely many users');
  const { zAlpha, zPower } = criticalValues(options);
  return (2 * standardDeviation ** 2 * (zAlpha + zPower) ** 2) / absoluteLift ** 2;
}

export interface DurationInput {
  sampleSizePerArm: number;
  arms: number;
  /** Eligible users per day. */
  dailyTraffic: number;
  /** Share of the eligible users put into the experiment, in (0, 1]. */
  trafficShare?: number;
}

/** Whole days to reach the sample: ceil(n per arm × arms / (daily traffic × traffic share)). */
export function experimentDurationDays({ sampleSizePerArm, arms, dailyTraffic, trafficShare = 1 }: DurationInput): number {
  if (!(sampleSizePerArm >= 0 && arms >= 1)) throw new RangeError(`need a sample size ≥ 0 and at least one arm, got ${sampleSizePerArm} and ${arms}`);
  if (!(dailyTraffic > 0 && trafficShare > 0 && trafficShare <= 1)) throw new RangeError(`need daily traffic > 0 and a traffic share in (0, 1], got ${dailyTraffic} and ${trafficShare}`);
  return Math.ceil((sampleSizePerArm * arms) / (dailyTraffic * trafficShare));
}
