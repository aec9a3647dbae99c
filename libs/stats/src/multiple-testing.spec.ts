import { seededRandom } from '@segmenta/analytics';
import { benjaminiHochbergAdjust, holmAdjust } from './multiple-testing';

/** Hand-computed examples (R's p.adjust gives the same) and a simulation of the error rates. */

const expectAllClose = (actual: number[], expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 12));
};

describe('Holm', () => {
  it('p = [0.01, 0.04, 0.03, 0.005] → [0.03, 0.06, 0.06, 0.02]', () => {
    expectAllClose(holmAdjust([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02]);
  });

  it('p = [0.02, 0.5, 0.001, 0.9, 0.02] → [0.08, 1, 0.005, 1, 0.08] (ties, and capped at 1)', () => {
    // Sorted 0.001, 0.02, 0.02, 0.5, 0.9 × 5, 4, 3, 2, 1 = 0.005, 0.08, 0.06, 1.0, 0.9; running max 0.005, 0.08, 0.08, 1, 1.
    expectAllClose(holmAdjust([0.02, 0.5, 0.001, 0.9, 0.02]), [0.08, 1, 0.005, 1, 0.08]);
  });
});

describe('Benjamini–Hochberg', () => {
  it('p = [0.01, 0.04, 0.03, 0.005] → [0.02, 0.04, 0.04, 0.02]', () => {
    expectAllClose(benjaminiHochbergAdjust([0.01, 0.04, 0.03, 0.005]), [0.02, 0.04, 0.04, 0.02]);
  });

  it('p = [0.02, 0.5, 0.001, 0.9, 0.02] → [1/30, 0.625, 0.005, 0.9, 1/30]', () => {
    // m/k·p: 5·0.001, 5/2·0.02, 5/3·0.02, 5/4·0.5, 0.9 = 0.005, 0.05, 0.0333, 0.625, 0.9; running min from the top.
    expectAllClose(benjaminiHochbergAdjust([0.02, 0.5, 0.001, 0.9, 0.02]), [1 / 30, 0.625, 0.005, 0.9, 1 / 30]);
  });
});

describe('both adjustments', () => {
  it('leave a single p-value and an empty list alone and refuse values outside [0, 1]', () => {
    expect(holmAdjust([0.3])).toEqual([0.3]);
    expect(benjaminiHochbergAdjust([0.3])).toEqual([0.3]);
    expect(holmAdjust([])).toEqual([]);
    expect(() => holmAdjust([0.1, 1.2])).toThrow(RangeError);
    expect(() => benjaminiHochbergAdjust([Number.NaN])).toThrow(RangeError);
  });

  it('control their error rates in 4,000 simulated families of 10 tests (Holm: FWER ≤ α; BH: FDR ≤ α)', () => {
    const random = seededRandom(31);
    const families = 4000;
    const alpha = 0.05;
    let holmFamilyErrors = 0;
    let falseDiscoveryProportionSum = 0;
    let rawFamilyErrors = 0;
    for (let f = 0; f < families; f += 1) {
      // 7 true nulls (uniform p) and 3 real effects (p concentrated near 0).
      const pValues = [...Array.from({ length: 7 }, () => random()), ...Array.from({ length: 3 }, () => random() ** 8 / 100)];
      const holm = holmAdjust(pValues);
      const bh = benjaminiHochbergAdjust(pValues);
      if (holm.slice(0, 7).some((p) => p < alpha)) holmFamilyErrors += 1;
      if (pValues.slice(0, 7).some((p) => p < alpha)) rawFamilyErrors += 1;
      const discoveries = bh.filter((p) => p < alpha).length;
      const falseDiscoveries = bh.slice(0, 7).filter((p) => p < alpha).length;
      if (discoveries > 0) falseDiscoveryProportionSum += falseDiscoveries / discoveries;
    }
    const simulationError = Math.sqrt((alpha * (1 - alpha)) / families);
    expect(holmFamilyErrors / families).toBeLessThanOrEqual(alpha + 3 * simulationError);
    // BH's FDR is (7/10)·α here.
    expect(falseDiscoveryProportionSum / families).toBeLessThanOrEqual(0.7 * alpha + 3 * simulationError);
    // Unadjusted, the family-wise error would be 1 − 0.95⁷ ≈ 0.30.
    expect(rawFamilyErrors / families).toBeGreaterThan(0.25);
  });

  it('are monotone in the raw p-values, never below them, and BH never above Holm', () => {
    const random = seededRandom(8);
    const violations: string[] = [];
    for (let trial = 0; trial < 200; trial += 1) {
      const pValues = Array.from({ length: 1 + Math.floor(random() * 12) }, () => random() ** 3);
      const holm = holmAdjust(pValues);
      const bh = benjaminiHochbergAdjust(pValues);
      for (let i = 0; i < pValues.length; i += 1) {
        if (bh[i] < pValues[i] || bh[i] > holm[i] + 1e-15) violations.push(`BH ${bh[i]} vs p ${pValues[i]}, Holm ${holm[i]}`);
        for (let j = 0; j < pValues.length; j += 1) {
          if (pValues[i] <= pValues[j] && (holm[i] > holm[j] || bh[i] > bh[j])) violations.push(`order of ${pValues[i]} and ${pValues[j]}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
