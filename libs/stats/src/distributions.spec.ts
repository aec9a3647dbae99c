import {
  chiSquareSurvival,
  logBeta,
  normalCdf,
  normalQuantile,
  regularizedGammaP,
  regularizedGammaQ,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTQuantile,
  studentTSurvival,
} from './distributions';

/** Checked against published table values and closed forms, never against this code's own output. */

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

describe('normal distribution', () => {
  // R: pnorm(c(0, 1.96, -3, -10, 5)).
  it.each([
    [0, 0.5],
    [1.96, 0.9750021048517795],
    [-3, 0.0013498980316300946],
    [-10, 7.619853024160527e-24],
    [5, 0.9999997133484281],
  ])('Φ(%p) = %p', (x, expected) => {
    expect(relativeError(normalCdf(x), expected)).toBeLessThan(1e-13);
  });

  // R: qnorm(c(0.975, 0.8, 0.999, 1e-10, 0.5)).
  it.each([
    [0.975, 1.959963984540054],
    [0.8, 0.8416212335729143],
    [0.999, 3.090232306167813],
    [1e-10, -6.361340902404056],
  ])('Φ⁻¹(%p) = %p', (p, expected) => {
    expect(relativeError(normalQuantile(p), expected)).toBeLessThan(1e-14);
  });

  it('inverts the CDF across the range', () => {
    for (const p of [1e-300, 1e-20, 1e-5, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-9]) {
      expect(relativeError(normalCdf(normalQuantile(p)), p)).toBeLessThan(1e-12);
    }
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe("Student's t distribution", () => {
  // t tables (R: qt).
  it.each([
    [0.975, 10, 2.228138852],
    [0.975, 1, 12.70620474],
    [0.975, 2, 4.30265273],
    [0.975, 30, 2.042272456],
    [0.995, 5, 4.032142984],
    [0.95, 20, 1.724718243],
    [0.025, 10, -2.228138852],
  ])('quantile %p with %p degrees of freedom is %p', (p, dof, expected) => {
    expect(studentTQuantile(p, dof)).toBeCloseTo(expected, 8);
  });

  it('matches the closed forms for 1 (Cauchy), 2 and 3 degrees of freedom', () => {
    for (const t of [-30, -4.2, -1, -0.01, 0, 0.3, 2.5, 12.7, 1000]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 14);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(t * t + 2)), 14);
      const s = t / Math.sqrt(3);
      expect(studentTCdf(t, 3)).toBeCloseTo(0.5 + (s / (1 + s * s) + Math.atan(s)) / Math.PI, 14);
    }
    for (const p of [0.001, 0.2, 0.6, 0.9999]) {
      expect(relativeError(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)))).toBeLessThan(1e-12);
      expect(relativeError(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)))).toBeLessThan(1e-12);
    }
  });

  it('keeps the digits of far tails and tends to the normal as the degrees of freedom grow', () => {
    // Cauchy: P(T > t) = atan(1/t)/π for t > 0, exact in the far tail where 1 − CDF would lose everything.
    expect(relativeError(studentTSurvival(1e9, 1), Math.atan(1e-9) / Math.PI)).toBeLessThan(1e-12);
    // Fisher's expansion t = z + g₁/ν + g₂/ν² + g₃/ν³ is exact to ~1e-14 at these ν.
    for (const p of [0.9, 0.975, 0.9999]) {
      for (const v of [1e4, 1e5, 1e6, 1e9]) {
        const z = normalQuantile(p);
        const fisher = z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2) + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3);
        expect(relativeError(studentTQuantile(p, v), fisher)).toBeLessThan(1e-10);
      }
    }
    expect(studentTCdf(1.96, Infinity)).toBe(normalCdf(1.96));
  });
});

describe('chi-square and incomplete gamma', () => {
  it('matches the closed forms for 2 and 4 degrees of freedom and the Poisson sum', () => {
    for (const x of [0.01, 1, 5.5, 18.1818, 60]) {
      expect(relativeError(chiSquareSurvival(x, 2), Math.exp(-x / 2))).toBeLessThan(1e-13);
      expect(relativeError(chiSquareSurvival(x, 4), Math.exp(-x / 2) * (1 + x / 2))).toBeLessThan(1e-13);
      // Q(n, x) = P(Poisson(x) < n).
      let term = Math.exp(-x);
      let poisson = 0;
      for (let k = 0; k < 7; k += 1) {
        poisson += term;
        term *= x / (k + 1);
      }
      expect(relativeError(regularizedGammaQ(7, x), poisson)).toBeLessThan(1e-12);
      expect(regularizedGammaP(7, x) + regularizedGammaQ(7, x)).toBeCloseTo(1, 14);
    }
  });

  it('gives the tabled critical values: χ²(0.95, 1) = 3.841458821, χ²(0.999, 3) = 16.2662362', () => {
    expect(chiSquareSurvival(3.841458821, 1)).toBeCloseTo(0.05, 9);
    expect(chiSquareSurvival(16.2662362, 3)).toBeCloseTo(0.001, 9);
    expect(chiSquareSurvival(0, 3)).toBe(1);
  });
});

describe('regularized incomplete beta', () => {
  it('matches the closed forms and the binomial tail', () => {
    for (const x of [0.001, 0.2, 0.5, 0.93]) {
      expect(relativeError(regularizedIncompleteBeta(x, 3.7, 1), x ** 3.7)).toBeLessThan(1e-13);
      expect(relativeError(regularizedIncompleteBeta(x, 1, 2.2), 1 - (1 - x) ** 2.2)).toBeLessThan(1e-13);
      // I_x(k, n − k + 1) = P(Binomial(n, x) ≥ k).
      const n = 40;
      const k = 13;
      let tail = 0;
      let coefficient = 1;
      for (let i = 0; i <= n; i += 1) {
        if (i >= k) tail += coefficient * x ** i * (1 - x) ** (n - i);
        coefficient = (coefficient * (n - i)) / (i + 1);
      }
      expect(Math.abs(regularizedIncompleteBeta(x, k, n - k + 1) - tail)).toBeLessThan(1e-14);
    }
    expect(regularizedIncompleteBeta(0.5, 250, 250)).toBeCloseTo(0.5, 12);
  });
});

describe('ln B(a, b)', () => {
  it('agrees with ln Γ sums where those are exact and with Γ(½) = √π for huge a', () => {
    // B(a, 1) = 1/a, B(3, 4) = 2!·3!/6! = 1/60.
    expect(logBeta(7.5, 1)).toBeCloseTo(-Math.log(7.5), 14);
    expect(logBeta(300.25, 1)).toBeCloseTo(-Math.log(300.25), 13);
    expect(logBeta(3, 4)).toBeCloseTo(-Math.log(60), 14);
    // B(n, ½) = Γ(n)Γ(½)/Γ(n + ½) = Π_{k=1..n} k/(k − ½) / n, since Γ(n + ½) = Γ(½)·Π (k − ½).
    for (const n of [40, 1000, 100_000]) {
      let logRatio = 0;
      for (let k = 1; k <= n; k += 1) logRatio += Math.log(k / (k - 0.5));
      expect(logBeta(n, 0.5)).toBeCloseTo(logRatio - Math.log(n), 10);
    }
  });
});
