import type { Random } from '@segmenta/analytics';
import type { MeanStatistics, ProportionStatistics } from './sufficient-statistics';

/**
 * Thompson sampling's allocation for a multi-armed bandit: each arm's share of traffic is the
 * posterior probability that it is the best arm, estimated by Monte Carlo, then floored so no arm
 * is ever starved. Pure: the service reads the arms' sufficient statistics and calls this on its
 * cadence; the uniform source is injected so a run can be repeated exactly.
 */

/**
 * One segment's arms, all on the same kind of metric:
 * - conversion: posterior Beta(1 + conversions, 1 + n − conversions) (a uniform prior);
 * - mean: posterior N(mean, s²/n) with s² the sample variance (the normal approximation). An arm
 *   with n < 2 has no variance of its own; it gets the wide prior N(m, s²) where m and s² are the
 *   mean and variance of one user's value over all the segment's users (as if it had seen one
 *   typical user), so it is explored as a plausible best. If the whole segment has fewer than two
 *   users there is nothing to tell the arms apart and every arm is equally likely the best. An arm
 *   whose values are all equal has s² = 0, a point posterior: only the floor keeps it explored.
 */
export type BanditArms = { kind: 'conversion'; arms: readonly ProportionStatistics[] } | { kind: 'mean'; arms: readonly MeanStatistics[] };

export interface ProbabilityOfBestOptions {
  /** Monte Carlo draws from each arm's posterior; 10,000 unless given (P(best) then has a standard error ≤ 0.005). */
  draws?: number;
  /**
   * Uniform source on [0, 1); Math.random unless given. Pass a seeded one to repeat a result. It
   * seeds the sampler (four uniforms per segment; see xoshiro128** below) rather than being called
   * for every draw.
   */
  random?: Random;
}

export interface ThompsonOptions extends ProbabilityOfBestOptions {
  /** Minimum weight of every arm, within [0, 1/arms]: traffic kept on each arm however unlikely it is to be best. */
  floor: number;
}

const DEFAULT_DRAWS = 10_000;

/**
 * Traffic weights for one segment, one per arm, summing to 1: w_i = floor + (1 − k·floor)·P(arm i
 * is best) for k arms, so every arm gets at least the floor (exactly: the second term is ≥ 0) and
 * the traffic above the floors is shared in proportion to P(best). A sure winner gets
 * 1 − (k − 1)·floor.
 */
export function thompsonAllocation(arms: BanditArms, options: ThompsonOptions): number[] {
  return allocate(arms, options, new Float64Array(0)).weights;
}

/** P(arm is best) for each arm by `draws` draws from every arm's posterior; ties (only possible for point posteriors) share the win. */
export function probabilityOfBeingBest(arms: BanditArms, options: ProbabilityOfBestOptions = {}): number[] {
  const draws = validateDraws(options.draws);
  validateArms(arms);
  return Array.from(estimateProbabilityOfBest(arms, draws, options.random ?? Math.random, new Float64Array(0)).probabilities);
}

/**
 * Thompson allocations of many segments at once (what the service calls on its cadence), keyed as
 * given. With one `random` the draws follow the segments' key order, so the same seed and the same
 * segments in the same order give the same weights. A bad segment's RangeError names it.
 */
export function banditAllocations<Key extends string>(segments: Readonly<Record<Key, BanditArms>>, options: ThompsonOptions): Record<Key, number[]> {
  const result = {} as Record<Key, number[]>;
  // One sampling buffer, grown to the largest segment, rather than one per segment.
  let scratch: Float64Array = new Float64Array(0);
  for (const key of Object.keys(segments) as Key[]) {
    try {
      const allocation = allocate(segments[key], options, scratch);
      scratch = allocation.scratch;
      result[key] = allocation.weights;
    } catch (error) {
      if (error instanceof RangeError) throw new RangeError(`segment ${JSON.stringify(key)}: ${error.message}`);
      throw error;
    }
  }
  return result;
}

function allocate(arms: BanditArms, options: ThompsonOptions, scratch: Float64Array): { weights: number[]; scratch: Float64Array } {
  const draws = validateDraws(options.draws);
  validateArms(arms);
  const k = arms.arms.length;
  const { floor } = options;
  if (!(floor >= 0 && floor <= 1 / k)) throw new RangeError(`floor must be within [0, 1/arms] = [0, ${1 / k}] for ${k} arms, got ${floor}`);
  const estimate = estimateProbabilityOfBest(arms, draws, options.random ?? Math.random, scratch);
  // k·floor may round a hair above 1 when floor = 1/k; the share above the floors is then 0.
  const shared = Math.max(0, 1 - k * floor);
  return { weights: Array.from(estimate.probabilities, (p) => floor + shared * p), scratch: estimate.scratch };
}

function validateDraws(draws = DEFAULT_DRAWS): number {
  if (!(Number.isInteger(draws) && draws >= 1)) throw new RangeError(`draws must be a positive integer, got ${draws}`);
  return draws;
}

function validateArms(arms: BanditArms): void {
  if (arms.kind !== 'conversion' && arms.kind !== 'mean') throw new RangeError(`kind must be 'conversion' or 'mean', got ${JSON.stringify((arms as { kind: unknown }).kind)}`);
  if (arms.arms.length === 0) throw new RangeError('a bandit needs at least one arm, got none');
  arms.arms.forEach((arm, i) => {
    if (!(arm.n >= 0 && Number.isFinite(arm.n))) throw new RangeError(`arm ${i}: n must be a finite count ≥ 0, got ${arm.n}`);
    if (arms.kind === 'conversion') {
      const { conversions, n } = arm as ProportionStatistics;
      if (!(conversions >= 0 && conversions <= n)) throw new RangeError(`arm ${i}: conversions must be within [0, n], got ${conversions} of ${n}`);
    } else {
      const { sum, sumOfSquares } = arm as MeanStatistics;
      if (!Number.isFinite(sum)) throw new RangeError(`arm ${i}: sum must be finite, got ${sum}`);
      if (!(sumOfSquares >= 0 && Number.isFinite(sumOfSquares))) throw new RangeError(`arm ${i}: sumOfSquares must be finite and ≥ 0, got ${sumOfSquares}`);
    }
  });
}

/**
 * The Monte Carlo estimate: `draws` draws of each arm in turn into a row of `scratch` (arm-major, so
 * each inner loop samples one distribution with fixed constants), then the winner of each draw.
 * The buffer is returned (grown if it was too small) for the next segment.
 */
function estimateProbabilityOfBest(arms: BanditArms, draws: number, random: Random, scratch: Float64Array): { probabilities: Float64Array; scratch: Float64Array } {
  const k = arms.arms.length;
  const probabilities = new Float64Array(k);
  if (k === 1) {
    probabilities[0] = 1;
    return { probabilities, scratch };
  }
  const samples = scratch.length >= k * draws ? scratch : new Float64Array(k * draws);
  const generator = seedGenerator(random);
  if (arms.kind === 'conversion') {
    arms.arms.forEach((arm, i) => fillBeta(samples, i * draws, draws, 1 + arm.conversions, 1 + arm.n - arm.conversions, generator));
  } else {
    const pooled = arms.arms.reduce((total, arm) => ({ n: total.n + arm.n, sum: total.sum + arm.sum, sumOfSquares: total.sumOfSquares + arm.sumOfSquares }), { n: 0, sum: 0, sumOfSquares: 0 });
    if (pooled.n < 2) {
      probabilities.fill(1 / k);
      return { probabilities, scratch: samples };
    }
    const widePrior = { mean: pooled.sum / pooled.n, sd: Math.sqrt(sampleVariance(pooled)) };
    arms.arms.forEach((arm, i) => {
      const posterior = arm.n >= 2 ? { mean: arm.sum / arm.n, sd: Math.sqrt(sampleVariance(arm) / arm.n) } : widePrior;
      fillNormal(samples, i * draws, draws, posterior.mean, posterior.sd, generator);
    });
  }
  countWins(samples, k, draws, probabilities);
  for (let i = 0; i < k; i += 1) probabilities[i] /= draws;
  return { probabilities, scratch: samples };
}

/**
 * Adds each draw's winner to wins[]; arms tied at the top (point posteriors only) share it
 * equally. Its own function so the hot loop is optimized on its own, apart from the set-up.
 */
function countWins(samples: Float64Array, k: number, draws: number, wins: Float64Array): void {
  const tied = new Int32Array(k);
  for (let j = 0; j < draws; j += 1) {
    let best = samples[j];
    tied[0] = 0;
    let tiedCount = 1;
    for (let i = 1; i < k; i += 1) {
      const value = samples[i * draws + j];
      if (value > best) {
        best = value;
        tied[0] = i;
        tiedCount = 1;
      } else if (value === best) {
        tied[tiedCount] = i;
        tiedCount += 1;
      }
    }
    if (tiedCount === 1) wins[tied[0]] += 1;
    else for (let t = 0; t < tiedCount; t += 1) wins[tied[t]] += 1 / tiedCount;
  }
}

/** (Σx² − (Σx)²/n)/(n − 1); negative rounding residue is clamped to 0. */
function sampleVariance({ n, sum, sumOfSquares }: MeanStatistics): number {
  return Math.max(0, (sumOfSquares - (sum * sum) / n) / (n - 1));
}

/**
 * The draws come from xoshiro128** (Blackman and Vigna, 2018: 32-bit outputs, period 2^128 − 1),
 * its state seeded from four of the caller's uniforms per segment, rather than from the caller's
 * `random` itself: 10,000 draws of 150 arms take about six million uniforms, and as many calls
 * through a function value cost more than all the sampling arithmetic. The state is an Int32Array
 * of four words (never boxed); the Beta loop keeps it in locals.
 */
type GeneratorState = Int32Array;

const TWO_TO_32 = 4294967296;

function seedGenerator(random: Random): GeneratorState {
  const state = new Int32Array(4);
  for (let i = 0; i < 4; i += 1) state[i] = (random() * TWO_TO_32) | 0;
  // The all-zero state is the generator's one fixed point.
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return state;
}

/** The next 32 random bits as an unsigned integer (one xoshiro128** step). */
function nextUint32(state: GeneratorState): number {
  const s0 = state[0];
  const s1 = state[1];
  const s2 = state[2] ^ s0;
  const s3 = state[3] ^ s1;
  const times5 = Math.imul(s1, 5);
  state[0] = s0 ^ s3;
  state[1] = s1 ^ s2;
  state[2] = s2 ^ (s1 << 9);
  state[3] = (s3 << 11) | (s3 >>> 21);
  return Math.imul((times5 << 7) | (times5 >>> 25), 9) >>> 0;
}

/** A uniform on [0, 1) with 32 bits of resolution. */
function nextUniform(state: GeneratorState): number {
  return nextUint32(state) / TWO_TO_32;
}

/**
 * The ziggurat (Marsaglia and Tsang, 2000) for the standard normal: the half-density e^(−x²/2)
 * covered by 128 layers of equal area V, the bottom one a rectangle of width V/f(R) standing for
 * [0, R] plus the tail. A draw picks a layer (low 7 bits) and a signed position in it (the other
 * 25 bits, so the two are independent) from one 32-bit output, and ~99 % of the time the position
 * lies under the next, narrower layer, so it is a sample as is; otherwise the wedge is tested
 * against the density or the tail is sampled. (Box–Muller's logarithm, square root, sine and
 * cosine per pair were most of the cost of a Gamma draw.)
 */
const ZIGGURAT_LAYERS = 128;
/** R and V for 128 layers (Marsaglia and Tsang's constants). */
const ZIGGURAT_R = 3.442619855899;
const ZIGGURAT_V = 9.91256303526217e-3;
/** Layer i's half-width (layer 0's is V/f(R)). */
const layerWidth = new Float64Array(ZIGGURAT_LAYERS);
/** Half-width of the layer above i (0 above the top one): |x| below it is under the density. */
const innerWidth = new Float64Array(ZIGGURAT_LAYERS);
/** f(x) at layer i's bottom and top edges, for the wedge test. */
const layerBottom = new Float64Array(ZIGGURAT_LAYERS);
const layerTop = new Float64Array(ZIGGURAT_LAYERS);
{
  const density = (x: number) => Math.exp(-0.5 * x * x);
  // Edges x_1 = R > x_2 > … > x_128 = 0, each x_{i+1} = f⁻¹(f(x_i) + V/x_i).
  const edges = new Float64Array(ZIGGURAT_LAYERS + 1);
  edges[1] = ZIGGURAT_R;
  for (let i = 1; i < ZIGGURAT_LAYERS - 1; i += 1) edges[i + 1] = Math.sqrt(-2 * Math.log(density(edges[i]) + ZIGGURAT_V / edges[i]));
  edges[ZIGGURAT_LAYERS] = 0;
  layerWidth[0] = ZIGGURAT_V / density(ZIGGURAT_R);
  innerWidth[0] = ZIGGURAT_R;
  for (let i = 1; i < ZIGGURAT_LAYERS; i += 1) {
    layerWidth[i] = edges[i];
    innerWidth[i] = edges[i + 1];
    layerBottom[i] = density(edges[i]);
    layerTop[i] = density(edges[i + 1]);
  }
}
const LAYER_MASK = ZIGGURAT_LAYERS - 1;
/** 2^−24: the 25-bit position k mapped to (k + ½)/2^24 − 1, in (−1, 1) and symmetric about 0. */
const POSITION_SCALE = 1 / 16777216;

/** One standard normal draw from the ziggurat. */
function standardNormal(state: GeneratorState): number {
  const bits = nextUint32(state);
  const layer = bits & LAYER_MASK;
  const scaled = (((bits >>> 7) + 0.5) * POSITION_SCALE - 1) * layerWidth[layer];
  return Math.abs(scaled) < innerWidth[layer] ? scaled : normalOutsideInnerWidth(state, layer, scaled);
}

/** The rare case: a position in layer 0's tail part, or in a wedge between a layer's rectangle and the curve. */
function normalOutsideInnerWidth(state: GeneratorState, layer: number, scaled: number): number {
  if (layer === 0) {
    // Beyond R: Marsaglia's tail method, exact for the normal tail.
    let tail: number;
    let exponential: number;
    do {
      tail = -Math.log(1 - nextUniform(state)) / ZIGGURAT_R;
      exponential = -Math.log(1 - nextUniform(state));
    } while (2 * exponential < tail * tail);
    return scaled < 0 ? -(ZIGGURAT_R + tail) : ZIGGURAT_R + tail;
  }
  // The wedge: accept under the density, or start again with a fresh draw.
  if (layerBottom[layer] + nextUniform(state) * (layerTop[layer] - layerBottom[layer]) < Math.exp(-0.5 * scaled * scaled)) return scaled;
  return standardNormal(state);
}

/** `count` draws of N(mean, sd²) into out[offset…]. */
function fillNormal(out: Float64Array, offset: number, count: number, mean: number, sd: number, state: GeneratorState): void {
  for (let j = 0; j < count; j += 1) out[offset + j] = mean + sd * standardNormal(state);
}

/**
 * `count` draws of Beta(a, b) = X/(X + Y), X ~ Gamma(a, 1), Y ~ Gamma(b, 1), into out[offset…];
 * a, b ≥ 1. Each Gamma by Marsaglia and Tsang (2000): with d = shape − ⅓ and c = 1/√(9d), d·v for
 * v = (1 + c·x)³, x standard normal, accepted by the cheap squeeze u < 1 − 0.0331·x⁴ almost always
 * and by the exact test ln u < x²/2 + d(1 − v + ln v) otherwise (over 95 % of candidates are
 * accepted for every shape ≥ 1).
 *
 * This is the hot loop (two Gammas per draw, 3 million for 150 arms of 10,000 draws), so the
 * generator's state lives in locals and its step (as in nextUint32) and the ziggurat's common case
 * (as in standardNormal) are written out here; the state goes back to the array around the rare
 * path and at the end. Measured against calling the helpers, about 20 % faster.
 */
function fillBeta(out: Float64Array, offset: number, count: number, a: number, b: number, state: GeneratorState): void {
  const dA = a - 1 / 3;
  const cA = 1 / Math.sqrt(9 * dA);
  const dB = b - 1 / 3;
  const cB = 1 / Math.sqrt(9 * dB);
  let s0 = state[0];
  let s1 = state[1];
  let s2 = state[2];
  let s3 = state[3];
  for (let j = 0; j < count; j += 1) {
    let x = 0;
    for (let gamma = 0; gamma < 2; gamma += 1) {
      const d = gamma === 0 ? dA : dB;
      const c = gamma === 0 ? cA : cB;
      let draw: number;
      for (;;) {
        let times5 = Math.imul(s1, 5);
        const normalBits = Math.imul((times5 << 7) | (times5 >>> 25), 9) >>> 0;
        let shifted = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= shifted;
        s3 = (s3 << 11) | (s3 >>> 21);
        const layer = normalBits & LAYER_MASK;
        let normal = (((normalBits >>> 7) + 0.5) * POSITION_SCALE - 1) * layerWidth[layer];
        if (!(Math.abs(normal) < innerWidth[layer])) {
          state[0] = s0;
          state[1] = s1;
          state[2] = s2;
          state[3] = s3;
          normal = normalOutsideInnerWidth(state, layer, normal);
          s0 = state[0];
          s1 = state[1];
          s2 = state[2];
          s3 = state[3];
        }
        let v = 1 + c * normal;
        if (v <= 0) continue;
        v = v * v * v;
        times5 = Math.imul(s1, 5);
        const u = (Math.imul((times5 << 7) | (times5 >>> 25), 9) >>> 0) / TWO_TO_32;
        shifted = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= shifted;
        s3 = (s3 << 11) | (s3 >>> 21);
        const x2 = normal * normal;
        if (u < 1 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) {
          draw = d * v;
          break;
        }
      }
      if (gamma === 0) x = draw;
      else out[offset + j] = x / (x + draw);
    }
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
}
