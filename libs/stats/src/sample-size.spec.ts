import { seededRandom } from '@segmenta/analytics';
import { normalCdf } from './distributions';
import { experimentDurationDays, sampleSizePerArmForMeans, sampleSizePerArmForProportions } from './sample-size';
import { binomialSampler } from './testing/binomial-sampler';

/** The README's worked example, hand-computed values and a power simulation. */

describe('sample size for two proportions', () => {
  it('README: baseline 0.20, lift 0.05, α 0.05, power 0.80 → 1,030.2 per arm', () => {
    expect(sampleSizePerArmForProportions(0.2, 0.05)).toBeCloseTo(1030.2, 1);
    expect(sampleSizePerArmForProportions(0.2, 0.05, { alpha: 0.05, power: 0.8 })).toBeCloseTo(1030.2, 1);
  });

  it('reaches the planned power: 10,000 simulated experiments at 1,031 per arm detect the lift about 80% of the time', () => {
    const n = Math.ceil(sampleSizePerArmForProportions(0.2, 0.05));
    const random = seededRandom(314);
    const experiments = 10_000;
    const [drawA, drawB] = [binomialSampler(n, 0.2), binomialSampler(n, 0.25)];
    let detected = 0;
    for (let e = 0; e < experiments; e += 1) {
      const [a, b] = [drawA(random), drawB(random)];
      // The test the formula plans for: the null variance is the baseline's, 2p(1 − p)/n, estimated
      // from the control arm (with the two rates pooled instead, this n gives only about 0.78).
      const pA = a / n;
      const z = (b - a) / n / Math.sqrt((2 * pA * (1 - pA)) / n);
      if (Math.abs(z) > 1.959963984540054) detected += 1;
    }
    // Simulation sd √(0.8·0.2/10,000) = 0.004; the formula's normal approximation adds a little.
    expect(Math.abs(detected / experiments - 0.8)).toBeLessThan(0.015);
  });

  it('needs more users for a smaller lift, a stricter α or more power', () => {
    const base = sampleSizePerArmForProportions(0.1, 0.02);
    expect(sampleSizePerArmForProportions(0.1, 0.01)).toBeGreaterThan(3.5 * base);
    expect(sampleSizePerArmForProportions(0.1, 0.02, { alpha: 0.01 })).toBeGreaterThan(base);
    expect(sampleSizePerArmForProportions(0.1, 0.02, { power: 0.9 })).toBeGreaterThan(base);
    expect(() => sampleSizePerArmForProportions(0.9, 0.2)).toThrow(RangeError);
    expect(() => sampleSizePerArmForProportions(0.2, 0)).toThrow(RangeError);
  });
});

describe('sample size for means', () => {
  it('σ = 1, δ = 0.5 → 2·(1.959964 + 0.841621)²/0.25 = 62.79 (hand-computed from the z table)', () => {
    expect(sampleSizePerArmForMeans(1, 0.5)).toBeCloseTo(62.79, 2);
    // Scales with (σ/δ)²: (30/3)² / (1/0.5)² = 25.
    expect(sampleSizePerArmForMeans(30, 3) / sampleSizePerArmForMeans(1, 0.5)).toBeCloseTo(25, 12);
  });

  it('gives the planned power: Φ(δ/√(2σ²/n) − z₀.₉₇₅) = 0.8 at the returned n', () => {
    for (const [sd, lift, power] of [
      [12, 1.5, 0.8],
      [1, 0.1, 0.9],
      [250, 40, 0.95],
    ]) {
      const n = sampleSizePerArmForMeans(sd, lift, { power });
      // Power of the two-sided z-test, counting both rejection tails.
      const shift = lift / Math.sqrt((2 * sd * sd) / n);
      expect(normalCdf(shift - 1.959963984540054) + normalCdf(-shift - 1.959963984540054)).toBeCloseTo(power, 4);
    }
  });
});

describe('experiment duration', () => {
  it('rounds whole days up', () => {
    // 1,031 × 2 = 2,062 users at 500 a day (half of 1,000): 4.124 → 5 days.
    expect(experimentDurationDays({ sampleSizePerArm: 1031, arms: 2, dailyTraffic: 1000, trafficShare: 0.5 })).toBe(5);
    // Exactly 4 days stays 4.
    expect(experimentDurationDays({ sampleSizePerArm: 1000, arms: 2, dailyTraffic: 500 })).toBe(4);
    // Three arms of 10,000 at 20% of 12,000 a day: 30,000/2,400 = 12.5 → 13.
    expect(experimentDurationDays({ sampleSizePerArm: 10_000, arms: 3, dailyTraffic: 12_000, trafficShare: 0.2 })).toBe(13);
    expect(() => experimentDurationDays({ sampleSizePerArm: 100, arms: 2, dailyTraffic: 0 })).toThrow(RangeError);
    expect(() => experimentDurationDays({ sampleSizePerArm: 100, arms: 2, dailyTraffic: 10, trafficShare: 1.5 })).toThrow(RangeError);
  });
});
