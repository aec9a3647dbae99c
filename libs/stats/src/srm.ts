import { chiSquareSurvival } from './distributions';

/** p-value below which a sample-ratio mismatch is flagged (GrowthBook's default). */
export const SRM_THRESHOLD = 0.001;

export interface SampleRatioMismatch {
  chiSquare: number;
  degreesOfFreedom: number;
  pValue: number;
  /** pValue < threshold: the assignment or the tracking is broken, so the results cannot be trusted. */
  flagged: boolean;
}

/**
 * Chi-square goodness of fit of the users per arm to the planned weights. Arms with weight 0 are
 * skipped (nobody should be there) and the rest renormalized; fewer than two arms or no users give p = 1.
 */
export function checkSampleRatioMismatch(users: readonly number[], weights: readonly number[], threshold = SRM_THRESHOLD): SampleRatioMismatch {
  if (users.length !== weights.length) throw new RangeError(`one weight per arm: ${users.length} arms, ${weights.length} weights`);
  if (users.some((u) => !(u >= 0)) || weights.some((w) => !(w >= 0))) throw new RangeError('users and weights must be non-negative');
  const arms = users.map((observed, i) => ({ observed, weight: weights[i] })).filter((arm) => arm.weight > 0);
  const totalUsers = arms.reduce((sum, arm) => sum + arm.observed, 0);
  const totalWeight = arms.reduce((sum, arm) => sum + arm.weight, 0);
  if (arms.length < 2 || totalUsers === 0) return { chiSquare: 0, degreesOfFreedom: Math.max(0, arms.length - 1), pValue: 1, flagged: false };
  const chiSquare = arms.reduce((sum, { observed, weight }) => {
    const expected = (weight / totalWeight) * totalUsers;
    return sum + (observed - expected) ** 2 / expected;
  }, 0);
  const degreesOfFreedom = arms.length - 1;
  const pValue = chiSquareSurvival(chiSquare, degreesOfFreedom);
  return { chiSquare, degreesOfFreedom, pValue, flagged: pValue < threshold };
}
