import { maximizeLogLikelihood, type LikelihoodFit } from './optimize';
import { digamma, logGamma } from './special';

/**
 * The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Fader & Hardie 2013):
 * a customer's transaction values are Gamma(p, ν), with ν ~ Gamma(q, γ) across customers. Fitted on
 * repeat customers with their number of repeat transactions x and mean repeat value zbar.
 */
export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

export interface SpendSummary {
  x: ArrayLike<number>;
  zbar: ArrayLike<number>;
}

export type GammaGammaFit = LikelihoodFit<GammaGammaParams>;

/** Log density of a customer's mean repeat value zbar given x repeat transactions. */
export function gammaGammaLogLikelihood({ p, q, gamma }: GammaGammaParams, x: number, zbar: number): number {
  const px = p * x;
  return logGamma(px + q) - logGamma(px) - logGamma(q) + q * Math.log(gamma) + (px - 1) * Math.log(zbar) + px * Math.log(x) - (px + q) * Math.log(gamma + x * zbar);
}

/** Only customers with repeat transactions of positive value carry information about spend. */
function repeaters(data: SpendSummary): { x: number[]; zbar: number[] } {
  if (data.x.length !== data.zbar.length) throw new RangeError('x and zbar must have the same length');
  const x: number[] = [];
  const zbar: number[] = [];
  for (let i = 0; i < data.x.length; i += 1) {
    if (data.x[i] > 0 && data.zbar[i] > 0) {
      x.push(data.x[i]);
      zbar.push(data.zbar[i]);
    }
  }
  return { x, zbar };
}

export function gammaGammaTotalLogLikelihood(params: GammaGammaParams, data: SpendSummary): number {
  const { x, zbar } = repeaters(data);
  let sum = 0;
  for (let i = 0; i < x.length; i += 1) sum += gammaGammaLogLikelihood(params, x[i], zbar[i]);
  return sum;
}

/** Maximum-likelihood fit on the customers with x > 0 and zbar > 0 (BFGS on log-parameters, analytic gradient). */
export function fitGammaGamma(data: SpendSummary, options: { start?: GammaGammaParams } = {}): GammaGammaFit {
  const { x, zbar } = repeaters(data);
  const n = x.length;
  if (n === 0) throw new RangeError('fitGammaGamma needs at least one customer with repeat transactions of positive value');
  const logZ = zbar.map(Math.log);
  const logX = x.map(Math.log);
  const total = ({ p, q, gamma }: GammaGammaParams, gradient?: number[]) => {
    const lgQ = logGamma(q);
    const psiQ = digamma(q);
    const logGammaParam = Math.log(gamma);
    let sum = 0;
    let dP = 0;
    let dQ = 0;
    let dGamma = 0;
    for (let i = 0; i < n; i += 1) {
      const px = p * x[i];
      const logSpend = Math.log(gamma + x[i] * zbar[i]);
      sum += logGamma(px + q) - logGamma(px) - lgQ + q * logGammaParam + (px - 1) * logZ[i] + px * logX[i] - (px + q) * logSpend;
      if (gradient) {
        const psiPXQ = digamma(px + q);
        dP += x[i] * (psiPXQ - digamma(px) + logZ[i] + logX[i] - logSpend);
        dQ += psiPXQ - psiQ + logGammaParam - logSpend;
        dGamma += q / gamma - (px + q) / (gamma + x[i] * zbar[i]);
      }
    }
    if (gradient) gradient.splice(0, gradient.length, p * dP, q * dQ, gamma * dGamma);
    return sum;
  };
  return maximizeLogLikelihood<GammaGammaParams>({ names: ['p', 'q', 'gamma'], start: options.start ?? { p: 1, q: 1, gamma: 1 }, observations: n, logLikelihood: total });
}

/**
 * E[M | x, zbar]: a customer's expected value per transaction, shrunk from their own mean towards
 * the population's (p·γ/(q − 1)) the fewer transactions they have. Needs q > 1.
 */
export function gammaGammaExpectedSpend({ p, q, gamma }: GammaGammaParams, x: number, zbar: number): number {
  if (!(q > 1)) throw new RangeError(`expected spend needs q > 1, got ${q}`);
  return x > 0 ? (p * (gamma + x * zbar)) / (p * x + q - 1) : (p * gamma) / (q - 1);
}
