import { beta, logBeta, seededRandom } from '@segmenta/analytics';
import { bayesianCompareMeans, bayesianCompareProportions, betaBinomialChanceToBeatControl, normalPosteriorSummary } from './bayesian';
import type { ProportionStatistics } from './sufficient-statistics';

/**
 * The worked examples of ../shared/datasets/README.md ("Experiment statistics") to the printed
 * precision; the rest against numeric integration, Evan Miller's closed form and Monte Carlo.
 */

describe('README worked examples', () => {
  it('49/100 vs 51/100', () => {
    const result = bayesianCompareProportions({ n: 100, conversions: 49 }, { n: 100, conversions: 51 });
    expect(result.estimate).toBeCloseTo(0.04082, 5);
    expect(result.sd).toBeCloseTo(0.14725, 5);
    expect(result.ci[0]).toBeCloseTo(-0.24779, 5);
    expect(result.ci[1]).toBeCloseTo(0.32943, 5);
    expect(result.chanceToBeatControl).toBeCloseTo(0.60918, 5);
    expect(result.risk[0]).toBeCloseTo(0.0814, 4);
    expect(result.risk[1]).toBeCloseTo(0.04058, 5);
  });

  it('means, A 100/1002.25/10 vs B 105/1111.5/10', () => {
    const result = bayesianCompareMeans({ n: 10, sum: 100, sumOfSquares: 1002.25 }, { n: 10, sum: 105, sumOfSquares: 1111.5 });
    // Means 10 and 10.5 exactly.
    expect(result.estimate).toBeCloseTo(0.05, 10);
    expect(result.sd).toBeCloseTo(0.03572, 5);
    expect(result.chanceToBeatControl).toBeCloseTo(0.91923, 5);
  });
});

/** Composite Simpson's rule with n (even) intervals. */
function simpson(f: (x: number) => number, lower: number, upper: number, n = 20_000): number {
  const h = (upper - lower) / n;
  let sum = f(lower) + f(upper);
  for (let i = 1; i < n; i += 1) sum += (i % 2 === 1 ? 4 : 2) * f(lower + i * h);
  return (sum * h) / 3;
}

describe('normal posterior', () => {
  it.each([
    [0.04, 0.15],
    [-0.3, 0.1],
    [0, 2],
    [1e-3, 1e-4],
  ])('matches numeric integration of N(%p, %p²) for the chance to beat control and both risks', (mean, sd) => {
    const density = (x: number) => Math.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));
    // Integrate each side of 0 separately: Simpson's rule across the kink at 0 would be first-order only.
    const [lower, upper] = [Math.min(0, mean - 12 * sd), Math.max(0, mean + 12 * sd)];
    const result = normalPosteriorSummary(mean, sd);
    expect(result.chanceToBeatControl).toBeCloseTo(simpson(density, 0, upper), 10);
    expect(result.risk[0] / sd).toBeCloseTo(simpson((x) => x * density(x), 0, upper) / sd, 10);
    expect(result.risk[1] / sd).toBeCloseTo(simpson((x) => -x * density(x), lower, 0) / sd, 10);
  });

  it('has no spread when the posterior is a point', () => {
    expect(normalPosteriorSummary(0.2, 0)).toEqual({ estimate: 0.2, sd: 0, ci: [0.2, 0.2], chanceToBeatControl: 1, risk: [0.2, 0] });
  });

  it('refuses a relative effect over a control mean of 0', () => {
    expect(() => bayesianCompareProportions({ n: 100, conversions: 0 }, { n: 100, conversions: 3 })).toThrow(RangeError);
  });
});

describe('Beta-Binomial chance to beat control', () => {
  /** Evan Miller's closed form for integer parameters: Σ_{i<α_B} B(α_A+i, β_A+β_B)/((β_B+i)·B(1+i, β_B)·B(α_A, β_A)). */
  function evanMiller(control: ProportionStatistics, treatment: ProportionStatistics): number {
    const [aA, bA] = [1 + control.conversions, 1 + control.n - control.conversions];
    const [aB, bB] = [1 + treatment.conversions, 1 + treatment.n - treatment.conversions];
    let total = 0;
    for (let i = 0; i < aB; i += 1) total += Math.exp(logBeta(aA + i, bA + bB) - Math.log(bB + i) - logBeta(1 + i, bB) - logBeta(aA, bA));
    return total;
  }

  function monteCarlo(control: ProportionStatistics, treatment: ProportionStatistics, draws: number, seed: number): number {
    const random = seededRandom(seed);
    let wins = 0;
    for (let i = 0; i < draws; i += 1) {
      const pA = beta(random, 1 + control.conversions, 1 + control.n - control.conversions);
      const pB = beta(random, 1 + treatment.conversions, 1 + treatment.n - treatment.conversions);
      if (pB > pA) wins += 1;
    }
    return wins / draws;
  }

  const cases: [string, ProportionStatistics, ProportionStatistics][] = [
    ['49/100 vs 51/100', { n: 100, conversions: 49 }, { n: 100, conversions: 51 }],
    ['14/28 vs 16/30', { n: 28, conversions: 14 }, { n: 30, conversions: 16 }],
    ['0/10 vs 3/12', { n: 10, conversions: 0 }, { n: 12, conversions: 3 }],
    ['200/1000 vs 230/1000', { n: 1000, conversions: 200 }, { n: 1000, conversions: 230 }],
    ['5/9000 vs 1/10000 (rare events)', { n: 9000, conversions: 5 }, { n: 10_000, conversions: 1 }],
    ['20,000/100,000 vs 25/100 (a narrow and a wide posterior)', { n: 100_000, conversions: 20_000 }, { n: 100, conversions: 25 }],
    ['no data in either arm', { n: 0, conversions: 0 }, { n: 0, conversions: 0 }],
  ];

  it.each(cases)("%s: equals Evan Miller's closed form", (_name, control, treatment) => {
    expect(betaBinomialChanceToBeatControl(control, treatment)).toBeCloseTo(evanMiller(control, treatment), 8);
  });

  it.each(cases.slice(0, 4))('%s: within 4 simulation errors of 40,000 seeded Monte Carlo draws', (_name, control, treatment) => {
    const draws = 40_000;
    const simulated = monteCarlo(control, treatment, draws, 11);
    const simulationError = Math.sqrt((simulated * (1 - simulated)) / draws);
    expect(Math.abs(betaBinomialChanceToBeatControl(control, treatment) - simulated)).toBeLessThan(4 * simulationError);
  });

  it('is ½ for identical arms and complements itself when the arms swap', () => {
    const a = { n: 500, conversions: 37 };
    const b = { n: 450, conversions: 41 };
    expect(betaBinomialChanceToBeatControl(a, a)).toBeCloseTo(0.5, 10);
    expect(betaBinomialChanceToBeatControl(a, b) + betaBinomialChanceToBeatControl(b, a)).toBeCloseTo(1, 10);
  });
});
