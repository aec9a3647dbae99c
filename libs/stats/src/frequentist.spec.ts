import { normal, seededRandom } from '@segmenta/analytics';
import { compareMeans, compareProportions, welchTest } from './frequentist';
import { summarizeMean } from './sufficient-statistics';

/**
 * The worked examples of ../shared/datasets/README.md ("Experiment statistics"), to the printed
 * precision; the rest against hand computations, closed forms and simulation.
 */

const sumsOf = (values: number[]) => ({ n: values.length, sum: values.reduce((s, v) => s + v, 0), sumOfSquares: values.reduce((s, v) => s + v * v, 0) });

describe('README worked examples', () => {
  it('Welch means: A 1396.87/52377.9767/3407, B 2422.7/134698.29/3461', () => {
    const result = compareMeans({ n: 3407, sum: 1396.87, sumOfSquares: 52377.9767 }, { n: 3461, sum: 2422.7, sumOfSquares: 134698.29 });
    const relative = result.relative;
    expect(relative).not.toBeNull();
    if (!relative) return;
    expect(relative.estimate).toBeCloseTo(0.70732, 5);
    expect(relative.ci[0]).toBeCloseTo(-0.03526, 5);
    expect(relative.ci[1]).toBeCloseTo(1.44989, 5);
    expect(relative.se).toBeCloseTo(0.37879, 5);
    expect(relative.pValue).toBeCloseTo(0.06191, 5);
    // 2422.7/3461 = 0.7 and 1396.87/3407 = 0.41 exactly.
    expect(result.absolute.estimate).toBeCloseTo(0.29, 10);
    expect(result.absolute.ci[0]).toBeCloseTo(0.04538, 5);
    expect(result.absolute.ci[1]).toBeCloseTo(0.53462, 5);
    expect(result.absolute.se).toBeCloseTo(0.12478, 5);
    expect(result.absolute.pValue).toBeCloseTo(0.02016, 5);
  });

  it('proportions 14/28 vs 16/30', () => {
    const relative = compareProportions({ n: 28, conversions: 14 }, { n: 30, conversions: 16 }).relative;
    expect(relative).not.toBeNull();
    if (!relative) return;
    expect(relative.estimate).toBeCloseTo(0.06667, 5);
    expect(relative.ci[0]).toBeCloseTo(-0.47767, 5);
    expect(relative.ci[1]).toBeCloseTo(0.61101, 5);
    expect(relative.se).toBeCloseTo(0.2717, 4);
    expect(relative.pValue).toBeCloseTo(0.80707, 5);
  });
});

describe("Welch's t-test", () => {
  it('takes the variance of a mean from the sums exactly as a two-pass computation on the rows does', () => {
    const random = seededRandom(7);
    const rows = Array.from({ length: 5000 }, () => 1000 + 3 * normal(random));
    const mean = rows.reduce((s, v) => s + v, 0) / rows.length;
    const twoPassVariance = rows.reduce((s, v) => s + (v - mean) ** 2, 0) / (rows.length - 1);
    const summary = summarizeMean(sumsOf(rows));
    expect(summary.mean).toBeCloseTo(mean, 10);
    expect(Math.abs(summary.variance / twoPassVariance - 1)).toBeLessThan(1e-6);
  });

  it('gives 2 degrees of freedom for two arms of two with equal variance, and the closed-form t₂ p-value and interval', () => {
    // A = [0, 2], B = [3, 5]: difference 3, variances 2 and 2, se = √(2/2 + 2/2) = √2, ν = 2.
    const result = compareMeans(sumsOf([0, 2]), sumsOf([3, 5]));
    expect(result.degreesOfFreedom).toBeCloseTo(2, 12);
    const t = 3 / Math.SQRT2;
    // For ν = 2: P(|T| > t) = 1 − t/√(t² + 2), and t_{0.975} = 0.95/√(2·0.975·0.025).
    expect(result.absolute.pValue).toBeCloseTo(1 - t / Math.sqrt(t * t + 2), 12);
    const halfWidth = (0.95 / Math.sqrt(2 * 0.975 * 0.025)) * Math.SQRT2;
    expect(result.absolute.ci[0]).toBeCloseTo(3 - halfWidth, 10);
    expect(result.absolute.ci[1]).toBeCloseTo(3 + halfWidth, 10);
  });

  it('computes the Welch–Satterthwaite degrees of freedom of unequal arms as by hand', () => {
    // A = [1, 2, 3, 4]: variance 5/3; B = [2, 4, 6, 8, 10]: variance 10.
    const a = 5 / 3 / 4;
    const b = 10 / 5;
    const result = compareMeans(sumsOf([1, 2, 3, 4]), sumsOf([2, 4, 6, 8, 10]));
    expect(result.degreesOfFreedom).toBeCloseTo((a + b) ** 2 / (a ** 2 / 3 + b ** 2 / 4), 10);
    expect(result.absolute.se).toBeCloseTo(Math.sqrt(a + b), 12);
  });

  it('uses the alpha it is given', () => {
    const stats = [sumsOf([1, 2, 3, 4, 5, 6]), sumsOf([2, 4, 5, 7, 8, 9])] as const;
    const wide = compareMeans(...stats, { alpha: 0.01 }).absolute;
    const narrow = compareMeans(...stats, { alpha: 0.2 }).absolute;
    expect(wide.ci[1] - wide.ci[0]).toBeGreaterThan(narrow.ci[1] - narrow.ci[0]);
    expect(wide.pValue).toBe(narrow.pValue);
  });

  it('covers the true difference 95% of the time with small unequal arms, and rejects 5% of A/A tests (4,000 simulations)', () => {
    const random = seededRandom(2024);
    const simulations = 4000;
    let covered = 0;
    let falsePositives = 0;
    for (let s = 0; s < simulations; s += 1) {
      const a = Array.from({ length: 8 }, () => 10 + normal(random));
      const b = Array.from({ length: 15 }, () => 12 + 4 * normal(random));
      const { absolute } = compareMeans(sumsOf(a), sumsOf(b));
      if (absolute.ci[0] <= 2 && 2 <= absolute.ci[1]) covered += 1;
      const c = Array.from({ length: 15 }, () => 10 + 4 * normal(random));
      if (compareMeans(sumsOf(a), sumsOf(c)).absolute.pValue < 0.05) falsePositives += 1;
    }
    // Simulation sd ≈ 0.0034; a normal (z) interval would cover only about 0.93 here.
    expect(Math.abs(covered / simulations - 0.95)).toBeLessThan(0.011);
    expect(Math.abs(falsePositives / simulations - 0.05)).toBeLessThan(0.011);
  });

  it('agrees with the spread of the relative lift across simulated experiments (delta method)', () => {
    const random = seededRandom(99);
    const [nA, nB, muA, muB, sdA, sdB] = [400, 500, 10, 11, 2, 3];
    const lifts = Array.from({ length: 20_000 }, () => {
      const mA = muA + (sdA / Math.sqrt(nA)) * normal(random);
      const mB = muB + (sdB / Math.sqrt(nB)) * normal(random);
      return (mB - mA) / mA;
    });
    const mean = lifts.reduce((s, v) => s + v, 0) / lifts.length;
    const simulatedSd = Math.sqrt(lifts.reduce((s, v) => s + (v - mean) ** 2, 0) / (lifts.length - 1));
    const relative = welchTest({ n: nA, mean: muA, variance: sdA ** 2 }, { n: nB, mean: muB, variance: sdB ** 2 }).relative;
    expect(relative).not.toBeNull();
    if (!relative) return;
    // The sd of a sample sd is about 0.5% here; the delta method's own error is smaller still.
    expect(Math.abs(relative.se / simulatedSd - 1)).toBeLessThan(0.02);
  });

  it('has no relative effect when the control mean is 0, and refuses arms of fewer than two users', () => {
    const result = compareProportions({ n: 50, conversions: 0 }, { n: 50, conversions: 3 });
    expect(result.relative).toBeNull();
    expect(result.absolute.estimate).toBeCloseTo(0.06, 12);
    expect(() => compareMeans({ n: 1, sum: 1, sumOfSquares: 1 }, sumsOf([1, 2]))).toThrow(RangeError);
    expect(() => compareProportions({ n: 10, conversions: 11 }, { n: 10, conversions: 1 })).toThrow(RangeError);
  });
});
