import { normalCdf } from './distributions';
import { checkSampleRatioMismatch } from './srm';

/** The six cases of ../shared/datasets/README.md ("Sample-ratio mismatch"), to the printed precision. */

describe('README worked examples', () => {
  it.each([
    [[1000, 1200], [0.5, 0.5], 0.000020079, 9],
    [[135, 115], [0.5, 0.5], 0.205903211, 9],
    [[310, 98], [0.75, 0.25], 0.647434186, 9],
    [[500, 500, 600], [0.34, 0.33, 0.33], 0.000592638, 9],
    [[0, 10, 10], [0.34, 0.33, 0.33], 0.005790624, 9],
    [[44_000, 45_000], [0.5, 0.5], 0.00080228, 8],
  ])('%p at %p → p %p', (users, weights, expected, digits) => {
    expect(checkSampleRatioMismatch(users, weights).pValue).toBeCloseTo(expected, digits);
  });

  it('gives χ² 18.1818 for [1000, 1200] at 50/50, and flags it', () => {
    const result = checkSampleRatioMismatch([1000, 1200], [0.5, 0.5]);
    expect(result.chiSquare).toBeCloseTo(18.1818, 4);
    expect(result.degreesOfFreedom).toBe(1);
    expect(result.flagged).toBe(true);
  });
});

describe('sample-ratio mismatch', () => {
  it('flags below p = 0.001 only', () => {
    expect(checkSampleRatioMismatch([44_000, 45_000], [0.5, 0.5]).flagged).toBe(true);
    expect(checkSampleRatioMismatch([500, 500, 600], [0.34, 0.33, 0.33]).flagged).toBe(true);
    expect(checkSampleRatioMismatch([0, 10, 10], [0.34, 0.33, 0.33]).flagged).toBe(false);
    expect(checkSampleRatioMismatch([135, 115], [0.5, 0.5]).flagged).toBe(false);
  });

  it('skips arms of weight 0 and renormalizes the rest', () => {
    // [1000, 1200] at 50/50 with a third, switched-off arm: the same test as without it.
    const withOff = checkSampleRatioMismatch([1000, 7, 1200], [0.4, 0, 0.4]);
    expect(withOff.degreesOfFreedom).toBe(1);
    // By hand: expected 1100 each, χ² = 2·100²/1100.
    expect(withOff.chiSquare).toBeCloseTo((2 * 100 ** 2) / 1100, 12);
    // With one degree of freedom P(χ² > x) = P(|Z| > √x) = 2Φ(−√x).
    expect(withOff.pValue / (2 * normalCdf(-Math.sqrt(withOff.chiSquare)))).toBeCloseTo(1, 12);
  });

  it('gives p = 1 with fewer than two arms or no users', () => {
    expect(checkSampleRatioMismatch([100], [1]).pValue).toBe(1);
    expect(checkSampleRatioMismatch([100, 50], [1, 0]).pValue).toBe(1);
    expect(checkSampleRatioMismatch([0, 0], [0.5, 0.5]).pValue).toBe(1);
    expect(checkSampleRatioMismatch([], []).pValue).toBe(1);
  });

  it('refuses mismatched or negative input', () => {
    expect(() => checkSampleRatioMismatch([1, 2], [1])).toThrow(RangeError);
    expect(() => checkSampleRatioMismatch([-1, 2], [0.5, 0.5])).toThrow(RangeError);
  });

  it('rejects about 0.1% of correctly randomized experiments (two arms, exact binomial tail by hand)', () => {
    // With n users split 50/50, χ² > c ⇔ |X − n/2| > √(c·n)/2; summing Binomial(n, ½) over that region
    // gives the exact flag rate, which the χ² approximation should put near 0.001.
    const n = 2000;
    const result = (x: number) => checkSampleRatioMismatch([x, n - x], [0.5, 0.5]);
    let logChoose = 0;
    let rate = 0;
    for (let x = 0; x <= n; x += 1) {
      if (x > 0) logChoose += Math.log((n - x + 1) / x);
      if (result(x).flagged) rate += Math.exp(logChoose - n * Math.LN2);
    }
    expect(rate).toBeGreaterThan(0.0007);
    expect(rate).toBeLessThan(0.0013);
  });
});
