import { normal, seededRandom, type Random } from '@segmenta/analytics';
import { cupedAdjust, type CupedArmStatistics } from './cuped';
import { welchTest } from './frequentist';

/** Checked against a direct computation on simulated rows, never against the sums-based code itself. */

interface Row {
  x: number;
  y: number;
}

/** Users whose pre-period x predicts y with correlation set by noiseSd; lift is added to y. */
function simulateArm(random: Random, n: number, lift: number, slope: number, noiseSd: number): Row[] {
  return Array.from({ length: n }, () => {
    const x = 50 + 10 * normal(random);
    return { x, y: 20 + slope * x + noiseSd * normal(random) + lift };
  });
}

const sums = (rows: Row[]): CupedArmStatistics => ({
  n: rows.length,
  sumY: rows.reduce((s, r) => s + r.y, 0),
  sumYSquared: rows.reduce((s, r) => s + r.y * r.y, 0),
  sumX: rows.reduce((s, r) => s + r.x, 0),
  sumXSquared: rows.reduce((s, r) => s + r.x * r.x, 0),
  sumXY: rows.reduce((s, r) => s + r.x * r.y, 0),
});

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
const variance = (values: number[]) => {
  const m = mean(values);
  return values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1);
};
const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

describe('CUPED', () => {
  it('matches θ and the adjusted means and variances computed row by row', () => {
    const random = seededRandom(17);
    const arms = [simulateArm(random, 3000, 0, 0.9, 5), simulateArm(random, 3500, 1.5, 0.9, 5)];
    // Direct: centred two-pass covariance over all rows, then adjust each row and summarize.
    const all = arms.flat();
    const mx = mean(all.map((r) => r.x));
    const my = mean(all.map((r) => r.y));
    const theta = all.reduce((s, r) => s + (r.x - mx) * (r.y - my), 0) / all.reduce((s, r) => s + (r.x - mx) ** 2, 0);
    const result = cupedAdjust(arms.map(sums));
    expect(relativeError(result.theta, theta)).toBeLessThan(1e-9);
    arms.forEach((rows, i) => {
      const adjusted = rows.map((r) => r.y - theta * (r.x - mx));
      expect(relativeError(result.arms[i].adjusted.mean, mean(adjusted))).toBeLessThan(1e-9);
      expect(relativeError(result.arms[i].adjusted.variance, variance(adjusted))).toBeLessThan(1e-8);
      expect(relativeError(result.arms[i].unadjusted.mean, mean(rows.map((r) => r.y)))).toBeLessThan(1e-12);
      expect(relativeError(result.arms[i].unadjusted.variance, variance(rows.map((r) => r.y)))).toBeLessThan(1e-9);
      expect(result.arms[i].adjusted.n).toBe(rows.length);
    });
  });

  it('shrinks the variance by about 1 − ρ² when x correlates with y, and leaves it when it does not', () => {
    const random = seededRandom(5);
    // y = 0.9x + noise: var(y) = 81 + 25, ρ² = 81/106.
    const correlated = cupedAdjust([sums(simulateArm(random, 4000, 0, 0.9, 5)), sums(simulateArm(random, 4000, 0, 0.9, 5))]);
    for (const arm of correlated.arms) {
      expect(arm.adjusted.variance / arm.unadjusted.variance).toBeLessThan(0.3);
      expect(Math.abs(arm.adjusted.variance / arm.unadjusted.variance - 25 / 106)).toBeLessThan(0.02);
    }
    const independent = cupedAdjust([sums(simulateArm(random, 4000, 0, 0, 5)), sums(simulateArm(random, 4000, 0, 0, 5))]);
    expect(Math.abs(independent.theta)).toBeLessThan(0.03);
    for (const arm of independent.arms) expect(Math.abs(arm.adjusted.variance / arm.unadjusted.variance - 1)).toBeLessThan(0.01);
  });

  it('keeps the lift unbiased and its standard error honest across 300 simulated experiments', () => {
    const random = seededRandom(123);
    const lift = 2;
    const adjustedLifts: number[] = [];
    const unadjustedLifts: number[] = [];
    const predictedSe: number[] = [];
    for (let s = 0; s < 300; s += 1) {
      const { arms } = cupedAdjust([sums(simulateArm(random, 400, 0, 0.9, 5)), sums(simulateArm(random, 400, lift, 0.9, 5))]);
      const adjusted = welchTest(arms[0].adjusted, arms[1].adjusted).absolute;
      adjustedLifts.push(adjusted.estimate);
      predictedSe.push(adjusted.se);
      unadjustedLifts.push(welchTest(arms[0].unadjusted, arms[1].unadjusted).absolute.estimate);
    }
    const observedSe = Math.sqrt(variance(adjustedLifts));
    // Predicted se ≈ √(2·25/400) ≈ 0.354; the mean of 300 lifts is within 4·0.354/√300 ≈ 0.08 of the truth.
    expect(Math.abs(mean(adjustedLifts) - lift)).toBeLessThan(0.08);
    // The sd of 300 draws is known to about 4% (1/√600).
    expect(Math.abs(mean(predictedSe) / observedSe - 1)).toBeLessThan(0.15);
    expect(observedSe).toBeLessThan(0.6 * Math.sqrt(variance(unadjustedLifts)));
  });

  it('does not adjust with a constant covariate and refuses arms of fewer than two users', () => {
    const arm = { n: 3, sumY: 6, sumYSquared: 14, sumX: 3, sumXSquared: 3, sumXY: 6 };
    const result = cupedAdjust([arm, arm]);
    expect(result.theta).toBe(0);
    expect(result.arms[0].adjusted).toEqual(result.arms[0].unadjusted);
    expect(() => cupedAdjust([{ ...arm, n: 1 }, arm])).toThrow(RangeError);
  });
});
