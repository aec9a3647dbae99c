import { logGamma } from '@segmenta/analytics';

/**
 * The distributions the tests need (normal, Student t, chi-square) in double precision, on
 * ln Γ from the analytics lib. Tails are computed directly, never as 1 − CDF, so tiny p-values
 * keep their digits.
 */

const EPSILON = 2.3e-16;
const TINY = 1e-300;
const MAX_ITERATIONS = 100_000;
const SQRT_TWO_PI = Math.sqrt(2 * Math.PI);

/** Standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_TWO_PI;
}

/** Standard normal CDF Φ(x), from erfc(z) = Q(½, z²). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const tail = 0.5 * regularizedGammaQ(0.5, 0.5 * x * x);
  return x < 0 ? tail : 1 - tail;
}

/** P(Z > x) for a standard normal Z. */
export function normalSurvival(x: number): number {
  return normalCdf(-x);
}

/** Φ⁻¹(p): Wichura's AS 241 (PPND16), about 16 significant digits; its coefficients as the nearest doubles. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2509.0809287301227 * r + 33430.57558358813) * r + 67265.7709270087) * r + 45921.95393154987) * r + 13731.69376550946) * r + 1971.5909503065513) * r + 133.14166789178438) * r +
          3.3871328727963665)) /
      (((((((5226.495278852546 * r + 28729.085735721943) * r + 39307.89580009271) * r + 21213.794301586597) * r + 5394.196021424751) * r + 687.1870074920579) * r + 42.31333070160091) * r + 1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value =
      (((((((0.0007745450142783414 * r + 0.022723844989269184) * r + 0.2417807251774506) * r + 1.2704582524523684) * r + 3.6478483247632045) * r + 5.769497221460691) * r + 4.630337846156546) * r +
        1.4234371107496835) /
      (((((((1.0507500716444169e-9 * r + 0.0005475938084995345) * r + 0.015198666563616457) * r + 0.14810397642748008) * r + 0.6897673349851) * r + 1.6763848301838038) * r + 2.053191626637759) * r +
        1);
  } else {
    r -= 5;
    value =
      (((((((2.0103343992922881e-7 * r + 0.000027115555687434876) * r + 0.0012426609473880784) * r + 0.026532189526576124) * r + 0.29656057182850487) * r + 1.7848265399172913) * r +
        5.463784911164114) *
        r +
        6.657904643501103) /
      (((((((2.0442631033899397e-15 * r + 1.421511758316446e-7) * r + 0.000018463183175100548) * r + 0.0007868691311456133) * r + 0.014875361290850615) * r + 0.1369298809227358) * r +
        0.599832206555888) *
        r +
        1);
  }
  return q < 0 ? -value : value;
}

/** Regularized lower incomplete gamma P(a, x) = γ(a, x)/Γ(a). */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x). */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

/** P(a, x) by its power series (converges fast for x < a + 1). */
function gammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n += 1) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  throw new Error(`incomplete gamma series did not converge for a = ${a}, x = ${x}`);
}

/** Q(a, x) by Legendre's continued fraction, modified Lentz (converges fast for x ≥ a + 1). */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i += 1) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
  }
  throw new Error(`incomplete gamma continued fraction did not converge for a = ${a}, x = ${x}`);
}

/**
 * ln B(a, b). With a large argument, ln Γ(a) − ln Γ(a + b) is taken from Stirling's series as a
 * whole: subtracting two huge ln Γ values would lose the digits of the t tail at large ν.
 */
export function logBeta(a: number, b: number): number {
  const large = Math.max(a, b);
  const small = Math.min(a, b);
  if (large < 20) return logGamma(a) + logGamma(b) - logGamma(a + b);
  return logGamma(small) - (large - 0.5) * Math.log1p(small / large) - small * Math.log(large + small) + small + stirlingCorrection(large) - stirlingCorrection(large + small);
}

/** ln Γ(x) − ((x − ½) ln x − x + ½ ln 2π) for x ≥ 20 (the next term is below 1e-17). */
function stirlingCorrection(x: number): number {
  const inv = 1 / x;
  const inv2 = inv * inv;
  return inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 / 1188))));
}

/** Regularized incomplete beta I_x(a, b). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  return incompleteBeta(x, 1 - x, a, b);
}

/**
 * I_x(a, b) given x and y = 1 − x, each computed by the caller without cancellation: with a large
 * a, a·ln x needs ln x = log1p(−y) to full relative precision.
 */
function incompleteBeta(x: number, y: number, a: number, b: number): number {
  if (!(a > 0 && b > 0) || Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const logX = x <= 0.5 ? Math.log(x) : Math.log1p(-y);
  const logY = y <= 0.5 ? Math.log(y) : Math.log1p(-x);
  const front = Math.exp(a * logX + b * logY - logBeta(a, b));
  // The continued fraction converges fast only below the mean; above it use I_x(a,b) = 1 − I_y(b,a).
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(y, b, a)) / b;
}

/** The continued fraction of I_x(a, b) (Numerical Recipes' betacf), modified Lentz. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const clampTiny = (v: number) => (Math.abs(v) < TINY ? TINY : v);
  let c = 1;
  let d = 1 / clampTiny(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m < MAX_ITERATIONS; m += 1) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 / clampTiny(1 + aa * d);
    c = clampTiny(1 + aa / c);
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 / clampTiny(1 + aa * d);
    c = clampTiny(1 + aa / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) return h;
  }
  throw new Error(`incomplete beta continued fraction did not converge for x = ${x}, a = ${a}, b = ${b}`);
}

/** Density of Student's t with ν degrees of freedom (ν = Infinity is the normal). */
export function studentTPdf(t: number, degreesOfFreedom: number): number {
  const v = degreesOfFreedom;
  if (v === Infinity) return normalPdf(t);
  return Math.exp(logGamma((v + 1) / 2) - logGamma(v / 2) - 0.5 * Math.log(v * Math.PI) - ((v + 1) / 2) * Math.log1p((t * t) / v));
}

/** P(T > t) for Student's t with ν degrees of freedom. */
export function studentTSurvival(t: number, degreesOfFreedom: number): number {
  const v = degreesOfFreedom;
  if (!(v > 0) || Number.isNaN(t)) return NaN;
  if (v === Infinity) return normalSurvival(t);
  // Beyond 4·10⁵ the continued fraction loses digits (x within 1e-5 of 1) while the normal
  // approximation with its 1/ν correction is off by O(1/ν²) only (as R's pt does).
  if (v > 4e5) return normalSurvival((t * (1 - 1 / (4 * v))) / Math.sqrt(1 + (t * t) / (2 * v)));
  const t2 = t * t;
  // P(|T| > |t|) = I_{ν/(ν+t²)}(ν/2, ½); the complementary form keeps the digits near t = 0.
  const x = v / (v + t2);
  const y = t2 / (v + t2);
  const twoSided = t2 > v ? incompleteBeta(x, y, v / 2, 0.5) : 1 - incompleteBeta(y, x, 0.5, v / 2);
  return t > 0 ? 0.5 * twoSided : 1 - 0.5 * twoSided;
}

/** Student's t CDF P(T ≤ t). */
export function studentTCdf(t: number, degreesOfFreedom: number): number {
  return studentTSurvival(-t, degreesOfFreedom);
}

/** Quantile of Student's t: the t with P(T ≤ t) = p. */
export function studentTQuantile(p: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0) || !(p >= 0 && p <= 1)) return NaN;
  if (degreesOfFreedom === Infinity) return normalQuantile(p);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  // Solve P(T > t) = tail for t > 0, so neither side is ever computed as 1 − (something near 1).
  const tail = p < 0.5 ? p : 1 - p;
  const t = upperTailQuantile(tail, degreesOfFreedom);
  return p < 0.5 ? -t : t;
}

/** The t > 0 with P(T > t) = tail (< ½): Newton's method kept inside a bisection bracket. */
function upperTailQuantile(tail: number, v: number): number {
  // t quantiles lie beyond the normal ones; Fisher's expansion is a close start for moderate ν.
  const z = normalQuantile(1 - tail);
  let low = z;
  let high = 2 * z;
  while (studentTSurvival(high, v) > tail) {
    low = high;
    high *= 2;
    if (high > 1e300) return Infinity;
  }
  let t = z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v * v);
  if (!(t > low && t < high)) t = 0.5 * (low + high);
  for (let i = 0; i < 500; i += 1) {
    const excess = studentTSurvival(t, v) - tail;
    if (excess === 0) return t;
    if (excess > 0) low = t;
    else high = t;
    // Survival decreases in t: Newton's step is excess / density.
    let next = t + excess / studentTPdf(t, v);
    if (!(next > low && next < high)) next = 0.5 * (low + high);
    if (Math.abs(next - t) <= 1e-15 * t || high - low <= 1e-15 * high) return next;
    t = next;
  }
  return t;
}

/** P(X > x) for a chi-square X with k degrees of freedom. */
export function chiSquareSurvival(x: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0)) return NaN;
  return regularizedGammaQ(degreesOfFreedom / 2, Math.max(0, x) / 2);
}
