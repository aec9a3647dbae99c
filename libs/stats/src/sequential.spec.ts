import { seededRandom, type Random } from '@segmenta/analytics';
import { confidenceSequence } from './sequential';
import { binomialSampler } from './testing/binomial-sampler';
import { summarizeProportion } from './sufficient-statistics';

/** Checked by simulation (seeded) and against the paper's equations, never against earlier output. */

const ALPHA = 0.05;
const LOOKS = 50;
const USERS_PER_LOOK = 100;

/** Cumulative conversions per arm after each look, for users converting with the given rates. */
function simulateLooks(random: Random, rateA: number, rateB: number): { a: number; b: number; n: number }[] {
  const [drawA, drawB] = [binomialSampler(USERS_PER_LOOK, rateA), binomialSampler(USERS_PER_LOOK, rateB)];
  const looks: { a: number; b: number; n: number }[] = [];
  let a = 0;
  let b = 0;
  for (let look = 1; look <= LOOKS; look += 1) {
    a += drawA(random);
    b += drawB(random);
    looks.push({ a, b, n: look * USERS_PER_LOOK });
  }
  return looks;
}

const sequentialSignificant = ({ a, b, n }: { a: number; b: number; n: number }) =>
  confidenceSequence(summarizeProportion({ n, conversions: a }), summarizeProportion({ n, conversions: b }), { alpha: ALPHA }).pValue < ALPHA;

/** The fixed-horizon two-proportion z-test, written out here: |p_B − p_A| / √(v_A/n + v_B/n) > z₀.₉₇₅. */
const naiveSignificant = ({ a, b, n }: { a: number; b: number; n: number }) => {
  const [pA, pB] = [a / n, b / n];
  const se = Math.sqrt((pA * (1 - pA) + pB * (1 - pB)) / n);
  return se > 0 && Math.abs(pB - pA) / se > 1.959963984540054;
};

describe('confidence sequence', () => {
  it('simulates with a binomial sampler of mean np and variance np(1 − p)', () => {
    const random = seededRandom(1);
    const draw = binomialSampler(USERS_PER_LOOK, 0.1);
    const draws = Array.from({ length: 40_000 }, () => draw(random));
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    const variance = draws.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws.length - 1);
    // Standard errors: √(9/40,000) = 0.015 for the mean, about 0.07 for the variance.
    expect(Math.abs(mean - 10)).toBeLessThan(0.06);
    expect(Math.abs(variance - 9)).toBeLessThan(0.3);
  });

  it('keeps the false-positive rate of 1,000 A/A experiments looked at 50 times within α, where the naive test does not', () => {
    const random = seededRandom(20240601);
    const experiments = 1000;
    let sequentialFalsePositives = 0;
    let naiveFalsePositives = 0;
    for (let e = 0; e < experiments; e += 1) {
      const looks = simulateLooks(random, 0.1, 0.1);
      if (looks.some(sequentialSignificant)) sequentialFalsePositives += 1;
      if (looks.some(naiveSignificant)) naiveFalsePositives += 1;
    }
    const simulationError = Math.sqrt((ALPHA * (1 - ALPHA)) / experiments);
    expect(sequentialFalsePositives / experiments).toBeLessThanOrEqual(ALPHA + 3 * simulationError);
    expect(naiveFalsePositives / experiments).toBeGreaterThan(0.15);
  });

  it('still finds a real lift (10% → 13%) in most experiments by the last look', () => {
    const random = seededRandom(7);
    const experiments = 200;
    let detected = 0;
    for (let e = 0; e < experiments; e += 1) if (simulateLooks(random, 0.1, 0.13).some(sequentialSignificant)) detected += 1;
    expect(detected / experiments).toBeGreaterThan(0.8);
  });

  it('is eq. 9 of Waudby-Smith et al. with ρ from eq. 161, and its p-value is below α exactly when 0 is outside', () => {
    const control = { n: 5000, mean: 0.1, variance: 0.09 };
    const treatment = { n: 5200, mean: 0.11, variance: 0.11 * 0.89 };
    const result = confidenceSequence(control, treatment, { alpha: 0.05, tuningSampleSize: 8000 });
    // The paper's form: half-width = σ̂·√(2(Nρ² + 1)/(N²ρ²)·ln(√(Nρ² + 1)/α)) with σ̂² = N·se².
    const N = 10_200;
    const rho2 = (-2 * Math.log(0.05) + Math.log(-2 * Math.log(0.05) + 1)) / 8000;
    const se = Math.sqrt(0.09 / 5000 + (0.11 * 0.89) / 5200);
    const halfWidth = Math.sqrt(N * se * se) * Math.sqrt(((2 * (N * rho2 + 1)) / (N * N * rho2)) * Math.log(Math.sqrt(N * rho2 + 1) / 0.05));
    expect(result.ci[0]).toBeCloseTo(0.01 - halfWidth, 12);
    expect(result.ci[1]).toBeCloseTo(0.01 + halfWidth, 12);
    // Wider than the fixed-horizon interval, the price of peeking.
    expect(halfWidth).toBeGreaterThan(1.96 * se);
    for (const lift of [0, 0.005, 0.01, 0.015, 0.02, 0.03, -0.025]) {
      const r = confidenceSequence(control, { ...treatment, mean: 0.1 + lift });
      expect(r.pValue < 0.05).toBe(r.ci[0] > 0 || r.ci[1] < 0);
    }
  });

  it('refuses an alpha outside (0, 1) or a non-positive tuning size', () => {
    const arm = { n: 100, mean: 0.5, variance: 0.25 };
    expect(() => confidenceSequence(arm, arm, { alpha: 1.5 })).toThrow(RangeError);
    expect(() => confidenceSequence(arm, arm, { tuningSampleSize: 0 })).toThrow(RangeError);
  });
});
