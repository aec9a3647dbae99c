import { maximizeLogLikelihood, type LikelihoodFit } from './optimize';
import { digamma, hyp2f1, logAddExp, logBeta, logGamma } from './special';

/**
 * The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers the easy
 * way"): while alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
 * purchase they drop out with probability p ~ Beta(a, b). Time is in whatever unit the summary uses
 * (weeks for CDNOW).
 */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/**
 * Per-customer summary of a calibration period: x = repeat purchases (distinct purchase periods
 * after the first), tx = time of the last purchase after the first, T = time from the first
 * purchase to the end of calibration. Columns, so 100,000s of customers cost no objects.
 */
export interface RepeatBuyingSummary {
  x: ArrayLike<number>;
  tx: ArrayLike<number>;
  T: ArrayLike<number>;
}

export type BgNbdFit = LikelihoodFit<BgNbdParams>;

/** Customers with the same (x, tx, T) contribute the same likelihood: each distinct triple once, weighted. */
interface Compressed {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  weight: Float64Array;
  /** Distinct x values and, per triple, the index of its x among them. */
  distinctX: Float64Array;
  xIndex: Uint32Array;
}

function compress(data: RepeatBuyingSummary): Compressed {
  const n = data.x.length;
  if (data.tx.length !== n || data.T.length !== n) throw new RangeError('x, tx and T must have the same length');
  const index = new Map<string, number>();
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const xi = data.x[i];
    const ti = data.tx[i];
    const Ti = data.T[i];
    if (!(Number.isInteger(xi) && xi >= 0) || !(ti >= 0) || !(Ti >= ti)) throw new RangeError(`customer ${i}: need whole x ≥ 0 and 0 ≤ tx ≤ T, got x=${xi}, tx=${ti}, T=${Ti}`);
    const key = `${xi}|${ti}|${Ti}`;
    const at = index.get(key);
    if (at !== undefined) weight[at] += 1;
    else {
      index.set(key, x.length);
      x.push(xi);
      tx.push(ti);
      T.push(Ti);
      weight.push(1);
    }
  }
  const distinct = [...new Set(x)].sort((p, q) => p - q);
  const position = new Map(distinct.map((v, i) => [v, i]));
  return {
    x: Float64Array.from(x),
    tx: Float64Array.from(tx),
    T: Float64Array.from(T),
    weight: Float64Array.from(weight),
    distinctX: Float64Array.from(distinct),
    xIndex: Uint32Array.from(x.map((v) => position.get(v) as number)),
  };
}

function validParams({ r, alpha, a, b }: BgNbdParams): boolean {
  return r > 0 && alpha > 0 && a > 0 && b > 0;
}

/**
 * Sum of the log-likelihood over compressed customers and, when asked, its gradient with respect
 * to (ln r, ln α, ln a, ln b).
 */
function compressedLogLikelihood(params: BgNbdParams, data: Compressed, gradient?: number[]): number {
  const { r, alpha, a, b } = params;
  if (!validParams(params)) return NaN;
  // Terms depending on x only, once per distinct x.
  const k = data.distinctX.length;
  const constant = new Float64Array(k);
  const alive = new Float64Array(k);
  const lgR = logGamma(r);
  const lgB = logGamma(b);
  const lgAB = logGamma(a + b);
  const rLogAlpha = r * Math.log(alpha);
  const logA = Math.log(a);
  for (let j = 0; j < k; j += 1) {
    const x = data.distinctX[j];
    constant[j] = logGamma(r + x) - lgR + rLogAlpha + lgAB + logGamma(b + x) - lgB - logGamma(a + b + x);
    alive[j] = x > 0 ? logA - Math.log(b + x - 1) : -Infinity;
  }
  let sum = 0;
  // Gradient pieces: of the per-x constants (weighted by how many customers have that x) and of the rest.
  const weightOfX = gradient ? new Float64Array(k) : undefined;
  let dR = 0;
  let dAlpha = 0;
  let dA = 0;
  let dB = 0;
  for (let i = 0; i < data.x.length; i += 1) {
    const x = data.x[i];
    const j = data.xIndex[i];
    const w = data.weight[i];
    const logT = Math.log(alpha + data.T[i]);
    const stillAlive = -(r + x) * logT;
    if (x === 0) {
      sum += w * (constant[j] + stillAlive);
      if (weightOfX) {
        weightOfX[j] += w;
        dR -= w * logT;
        dAlpha -= (w * r) / (alpha + data.T[i]);
      }
      continue;
    }
    const logTx = Math.log(alpha + data.tx[i]);
    const droppedOut = alive[j] - (r + x) * logTx;
    const ll = logAddExp(stillAlive, droppedOut);
    sum += w * (constant[j] + ll);
    if (weightOfX) {
      weightOfX[j] += w;
      // Share of the "dropped out after the last purchase" branch in this customer's likelihood.
      const share = Math.exp(droppedOut - ll);
      dR -= w * ((1 - share) * logT + share * logTx);
      dAlpha -= w * (r + x) * ((1 - share) / (alpha + data.T[i]) + share / (alpha + data.tx[i]));
      dA += (w * share) / a;
      dB -= (w * share) / (b + x - 1);
    }
  }
  if (gradient && weightOfX) {
    const psiR = digamma(r);
    const psiB = digamma(b);
    const psiAB = digamma(a + b);
    for (let j = 0; j < k; j += 1) {
      const x = data.distinctX[j];
      const w = weightOfX[j];
      const psiABX = digamma(a + b + x);
      dR += w * (digamma(r + x) - psiR + Math.log(alpha));
      dAlpha += (w * r) / alpha;
      dA += w * (psiAB - psiABX);
      dB += w * (psiAB + digamma(b + x) - psiB - psiABX);
    }
    // With respect to the logarithms: ∂/∂ln θ = θ ∂/∂θ.
    gradient.splice(0, gradient.length, r * dR, alpha * dAlpha, a * dA, b * dB);
  }
  return sum;
}

/** One customer's log-likelihood. */
export function bgnbdLogLikelihood(params: BgNbdParams, x: number, tx: number, T: number): number {
  return compressedLogLikelihood(params, compress({ x: [x], tx: [tx], T: [T] }));
}

/** The log-likelihood of a whole summary. */
export function bgnbdTotalLogLikelihood(params: BgNbdParams, data: RepeatBuyingSummary): number {
  return compressedLogLikelihood(params, compress(data));
}

/**
 * Maximum-likelihood fit: BFGS with the analytic gradient on the logarithms of the four parameters
 * (so they stay positive), from r = α = a = b = 1 unless told otherwise.
 */
export function fitBgNbd(data: RepeatBuyingSummary, options: { start?: BgNbdParams; maxIterations?: number } = {}): BgNbdFit {
  const compressed = compress(data);
  if (data.x.length === 0) throw new RangeError('fitBgNbd needs at least one customer');
  return maximizeLogLikelihood<BgNbdParams>({
    names: ['r', 'alpha', 'a', 'b'],
    start: options.start ?? { r: 1, alpha: 1, a: 1, b: 1 },
    observations: data.x.length,
    logLikelihood: (params, gradient) => compressedLogLikelihood(params, compressed, gradient),
    maxIterations: options.maxIterations,
  });
}

/** E[X(t)]: expected purchases of a new customer in a period of length t. */
export function bgnbdExpectedPurchases(params: BgNbdParams, t: number): number {
  const { r, alpha, a, b } = params;
  const z = t / (alpha + t);
  return ((a + b - 1) / (a - 1)) * (1 - Math.pow(alpha / (alpha + t), r) * hyp2f1(r, b, a + b - 1, z));
}

/** P(alive | x, tx, T): the chance the customer has not dropped out. */
export function bgnbdProbabilityAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  const logRatio = Math.log(a / (b + x - 1)) + (r + x) * Math.log((alpha + T) / (alpha + tx));
  return 1 / (1 + Math.exp(logRatio));
}

/** E[Y(t) | x, tx, T]: expected purchases in the next t of a customer with that history. */
export function bgnbdConditionalExpectedPurchases(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  const z = t / (alpha + T + t);
  const factor = (a + b + x - 1) / (a - 1);
  const rest = 1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z);
  return factor * rest * bgnbdProbabilityAlive(params, x, tx, T);
}

/** P(X(t) = n): the chance a new customer makes exactly n purchases in a period of length t. */
export function bgnbdProbabilityOfPurchases(params: BgNbdParams, n: number, t: number): number {
  const { r, alpha, a, b } = params;
  const logBab = logBeta(a, b);
  const logP = Math.log(alpha / (alpha + t));
  const logQ = Math.log(t / (alpha + t));
  const first = Math.exp(logBeta(a, b + n) - logBab + logGamma(r + n) - logGamma(r) - logGamma(n + 1) + r * logP + n * logQ);
  if (n === 0) return first;
  let partial = 0;
  for (let j = 0; j < n; j += 1) partial += Math.exp(logGamma(r + j) - logGamma(r) - logGamma(j + 1) + j * logQ);
  return first + Math.exp(logBeta(a + 1, b + n - 1) - logBab) * (1 - Math.exp(r * logP) * partial);
}

/** Below this mean dropout probability per purchase the fit has found no dropout in the data. */
export const MIN_IDENTIFIED_DROPOUT = 1e-3;

export interface DropoutIdentification {
  /** False when the fit ends at the boundary where nobody drops out: P(alive) is then ~1 for everyone and says nothing. */
  identified: boolean;
  /** E[p] = a / (a + b): the mean chance of dropping out after a purchase. */
  meanDropout: number;
  /** One plain sentence for reports and APIs. */
  text: string;
}

/**
 * Whether the fitted BG/NBD identifies dropout. When the data carry no dropout signal the
 * likelihood rises towards a → 0 or b → ∞ (E[p] → 0): the fit says "nobody leaves", P(alive) is
 * about 1 for everyone, and whether a customer has lapsed must come from recency rules instead.
 */
export function bgnbdDropout({ a, b }: BgNbdParams): DropoutIdentification {
  const meanDropout = a / (a + b);
  const identified = meanDropout >= MIN_IDENTIFIED_DROPOUT;
  const text = identified
    ? `a customer drops out after a purchase with probability ${(meanDropout * 100).toFixed(1)} % on average`
    : `the data cannot identify dropout: the BG/NBD fit ends at its boundary (a ${a.toPrecision(3)}, b ${b.toPrecision(3)}, mean dropout per purchase ${meanDropout.toExponential(1)}), so P(alive) is about 1 for everyone and is not used; lifecycle stages rest on recency rules`;
  return { identified, meanDropout, text };
}
