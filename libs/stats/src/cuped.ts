import type { ArmSummary } from './sufficient-statistics';

/**
 * CUPED (Deng et al. 2013): subtract θ·(x − x̄) from the metric y, where x is the same metric before
 * the experiment. The mean difference keeps its expectation (x is independent of the assignment)
 * and loses the variance x explains: var(y − θx) = var(y)(1 − ρ²) at the best θ.
 */

/** Per-arm sums of the metric y and its pre-experiment covariate x. */
export interface CupedArmStatistics {
  n: number;
  sumY: number;
  sumYSquared: number;
  sumX: number;
  sumXSquared: number;
  sumXY: number;
}

export interface CupedArm {
  /** Mean and variance of y − θ(x − x̄): pass these to the tests. */
  adjusted: ArmSummary;
  unadjusted: ArmSummary;
}

export interface CupedResult {
  /** cov(x, y)/var(x) over all arms' users together, one θ for every arm. */
  theta: number;
  arms: CupedArm[];
}

/** CUPED-adjusted means and variances of every arm, with θ pooled across the arms. */
export function cupedAdjust(arms: readonly CupedArmStatistics[]): CupedResult {
  if (arms.some((arm) => !(arm.n >= 2))) throw new RangeError('CUPED needs n ≥ 2 in every arm');
  const total = (pick: (arm: CupedArmStatistics) => number) => arms.reduce((sum, arm) => sum + pick(arm), 0);
  const n = total((a) => a.n);
  const sumX = total((a) => a.sumX);
  const pooledCovariance = total((a) => a.sumXY) - (sumX * total((a) => a.sumY)) / n;
  const pooledVarianceX = total((a) => a.sumXSquared) - (sumX * sumX) / n;
  // A covariate without spread explains nothing: no adjustment.
  const theta = pooledVarianceX > 0 ? pooledCovariance / pooledVarianceX : 0;
  const meanX = sumX / n;
  return {
    theta,
    arms: arms.map((arm) => {
      const meanY = arm.sumY / arm.n;
      const armMeanX = arm.sumX / arm.n;
      const varianceY = Math.max(0, (arm.sumYSquared - arm.sumY * meanY) / (arm.n - 1));
      const varianceX = Math.max(0, (arm.sumXSquared - arm.sumX * armMeanX) / (arm.n - 1));
      const covariance = (arm.sumXY - arm.sumX * meanY) / (arm.n - 1);
      return {
        adjusted: { n: arm.n, mean: meanY - theta * (armMeanX - meanX), variance: Math.max(0, varianceY - 2 * theta * covariance + theta * theta * varianceX) },
        unadjusted: { n: arm.n, mean: meanY, variance: varianceY },
      };
    }),
  };
}
