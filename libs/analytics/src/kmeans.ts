import { seededRandom, type Random } from './random';

/** Rows × columns of numbers, row-major in one typed array: a million rows cost no objects. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

export function matrix(rows: number, cols: number): Matrix {
  return { data: new Float64Array(rows * cols), rows, cols };
}

/** Rows [start, end) of a matrix, sharing its storage (no copy). */
export function sliceRows(m: Matrix, start: number, end: number): Matrix {
  return { data: m.data.subarray(start * m.cols, end * m.cols), rows: end - start, cols: m.cols };
}

/** Column means and standard deviations (population), and the z-scored copy of the data. */
export function standardize(m: Matrix): { z: Matrix; mean: Float64Array; sd: Float64Array } {
  const { rows, cols, data } = m;
  const mean = new Float64Array(cols);
  const sd = new Float64Array(cols);
  for (let i = 0; i < rows; i += 1) for (let j = 0; j < cols; j += 1) mean[j] += data[i * cols + j];
  for (let j = 0; j < cols; j += 1) mean[j] /= rows || 1;
  for (let i = 0; i < rows; i += 1) {
    for (let j = 0; j < cols; j += 1) {
      const d = data[i * cols + j] - mean[j];
      sd[j] += d * d;
    }
  }
  for (let j = 0; j < cols; j += 1) sd[j] = Math.sqrt(sd[j] / (rows || 1)) || 1; // a constant column stays 0
  const z = matrix(rows, cols);
  for (let i = 0; i < rows; i += 1) for (let j = 0; j < cols; j += 1) z.data[i * cols + j] = (data[i * cols + j] - mean[j]) / sd[j];
  return { z, mean, sd };
}

function squaredDistance(a: Float64Array, ai: number, b: Float64Array, bi: number, cols: number): number {
  let s = 0;
  for (let j = 0; j < cols; j += 1) {
    const d = a[ai + j] - b[bi + j];
    s += d * d;
  }
  return s;
}

/** Index of the nearest centroid of row i, and its squared distance. */
function nearest(m: Matrix, i: number, centroids: Float64Array, k: number): [number, number] {
  let best = 0;
  let bestDistance = Infinity;
  for (let c = 0; c < k; c += 1) {
    const d = squaredDistance(m.data, i * m.cols, centroids, c * m.cols, m.cols);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return [best, bestDistance];
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007): each next centre drawn with probability ∝ D². */
function seedCentroids(m: Matrix, k: number, random: Random): Float64Array {
  const { rows, cols, data } = m;
  const centroids = new Float64Array(k * cols);
  const first = Math.floor(random() * rows);
  centroids.set(data.subarray(first * cols, first * cols + cols), 0);
  const distance = new Float64Array(rows);
  for (let i = 0; i < rows; i += 1) distance[i] = squaredDistance(data, i * cols, centroids, 0, cols);
  for (let c = 1; c < k; c += 1) {
    let total = 0;
    for (let i = 0; i < rows; i += 1) total += distance[i];
    let target = random() * total;
    let chosen = rows - 1;
    for (let i = 0; i < rows; i += 1) {
      target -= distance[i];
      if (target <= 0) {
        chosen = i;
        break;
      }
    }
    centroids.set(data.subarray(chosen * cols, chosen * cols + cols), c * cols);
    for (let i = 0; i < rows; i += 1) distance[i] = Math.min(distance[i], squaredDistance(data, i * cols, centroids, c * cols, cols));
  }
  return centroids;
}

export interface KMeansResult {
  k: number;
  /** k × cols, row-major. */
  centroids: Float64Array;
  /** Cluster of each row. */
  labels: Int32Array;
  /** Sum of squared distances of rows to their centroid. */
  inertia: number;
  iterations: number;
  /** Whether mini-batch updates were used (more than `miniBatchAbove` rows). */
  miniBatch: boolean;
}

export interface KMeansOptions {
  seed?: number;
  maxIterations?: number;
  /** Above this many rows, mini-batch k-means (Sculley 2010) replaces full Lloyd iterations. */
  miniBatchAbove?: number;
  batchSize?: number;
  /** Independent seedings; the one with the lowest inertia wins (default 8, or 3 with mini-batches). */
  restarts?: number;
}

function assignAll(m: Matrix, centroids: Float64Array, k: number, labels: Int32Array): { inertia: number; changed: number } {
  let inertia = 0;
  let changed = 0;
  for (let i = 0; i < m.rows; i += 1) {
    const [c, d] = nearest(m, i, centroids, k);
    if (labels[i] !== c) changed += 1;
    labels[i] = c;
    inertia += d;
  }
  return { inertia, changed };
}

/**
 * k-means with k-means++ seeding; Lloyd iterations up to `miniBatchAbove` rows (default 50,000),
 * mini-batch updates above. Deterministic for a seed. An empty cluster is re-seeded with the row
 * farthest from its centroid.
 */
export function kMeans(m: Matrix, k: number, options: KMeansOptions = {}): KMeansResult {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
  if (m.rows < k) throw new RangeError(`k-means needs at least k = ${k} rows, got ${m.rows}`);
  const random = seededRandom(options.seed ?? 1);
  // Several seedings, the best kept: one k-means++ start can still merge two clusters and split another.
  const restarts = options.restarts ?? (m.rows > (options.miniBatchAbove ?? 50_000) ? 3 : 8);
  let best: KMeansResult | undefined;
  for (let run = 0; run < restarts; run += 1) {
    const result = kMeansOnce(m, k, options, random);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best as KMeansResult;
}

function kMeansOnce(m: Matrix, k: number, options: KMeansOptions, random: Random): KMeansResult {
  const { rows, cols } = m;
  const centroids = seedCentroids(m, k, random);
  const labels = new Int32Array(rows).fill(-1);
  const miniBatch = rows > (options.miniBatchAbove ?? 50_000);
  let iterations = 0;
  if (miniBatch) {
    const batchSize = options.batchSize ?? 4096;
    const counts = new Float64Array(k);
    const maxIterations = options.maxIterations ?? 150;
    for (; iterations < maxIterations; iterations += 1) {
      for (let b = 0; b < batchSize; b += 1) {
        const i = Math.floor(random() * rows);
        const [c] = nearest(m, i, centroids, k);
        counts[c] += 1;
        const rate = 1 / counts[c];
        for (let j = 0; j < cols; j += 1) centroids[c * cols + j] += rate * (m.data[i * cols + j] - centroids[c * cols + j]);
      }
    }
    // Finish with a few full Lloyd steps: cheap at this point, and they settle the centroids exactly.
    for (let step = 0; step < 3; step += 1) {
      assignAll(m, centroids, k, labels);
      recomputeCentroids(m, labels, k, centroids);
    }
  } else {
    const maxIterations = options.maxIterations ?? 300;
    for (; iterations < maxIterations; iterations += 1) {
      const { changed } = assignAll(m, centroids, k, labels);
      if (changed === 0) break;
      recomputeCentroids(m, labels, k, centroids);
    }
  }
  const { inertia } = assignAll(m, centroids, k, labels);
  return { k, centroids, labels, inertia, iterations, miniBatch };
}

function recomputeCentroids(m: Matrix, labels: Int32Array, k: number, centroids: Float64Array): void {
  const { rows, cols, data } = m;
  const sums = new Float64Array(k * cols);
  const counts = new Float64Array(k);
  for (let i = 0; i < rows; i += 1) {
    const c = labels[i];
    counts[c] += 1;
    for (let j = 0; j < cols; j += 1) sums[c * cols + j] += data[i * cols + j];
  }
  for (let c = 0; c < k; c += 1) {
    if (counts[c] > 0) {
      for (let j = 0; j < cols; j += 1) centroids[c * cols + j] = sums[c * cols + j] / counts[c];
      continue;
    }
    // Empty: take the row farthest from its own centroid.
    let far = 0;
    let farDistance = -1;
    for (let i = 0; i < rows; i += 1) {
      const d = squaredDistance(data, i * cols, centroids, labels[i] * cols, cols);
      if (d > farDistance) {
        farDistance = d;
        far = i;
      }
    }
    centroids.set(data.subarray(far * cols, far * cols + cols), c * cols);
  }
}

/** Rows drawn without replacement (all of them when there are fewer), in a seeded order. */
export function sampleRows(m: Matrix, size: number, seed: number): { sample: Matrix; indices: Int32Array } {
  const n = Math.min(size, m.rows);
  const random = seededRandom(seed);
  const order = Int32Array.from({ length: m.rows }, (_, i) => i);
  for (let i = 0; i < n; i += 1) {
    const j = i + Math.floor(random() * (m.rows - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const indices = order.slice(0, n);
  const sample = matrix(n, m.cols);
  for (let i = 0; i < n; i += 1) sample.data.set(m.data.subarray(indices[i] * m.cols, indices[i] * m.cols + m.cols), i * m.cols);
  return { sample, indices };
}

/** Mean silhouette coefficient of a labelled set (O(n²): call it on a sample). */
export function silhouette(m: Matrix, labels: ArrayLike<number>, k: number): number {
  const { rows, cols, data } = m;
  const sizes = new Float64Array(k);
  for (let i = 0; i < rows; i += 1) sizes[labels[i]] += 1;
  const sums = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < rows; i += 1) {
    sums.fill(0);
    for (let j = 0; j < rows; j += 1) if (j !== i) sums[labels[j]] += Math.sqrt(squaredDistance(data, i * cols, data, j * cols, cols));
    const own = labels[i];
    if (sizes[own] <= 1) continue; // a singleton's silhouette is 0
    const a = sums[own] / (sizes[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c += 1) if (c !== own && sizes[c] > 0) b = Math.min(b, sums[c] / sizes[c]);
    if (Number.isFinite(b)) total += (b - a) / Math.max(a, b);
  }
  return total / rows;
}

export interface KChoice {
  k: number;
  /** The k with the highest mean silhouette (k is the smallest within one standard error of it). */
  bestK: number;
  /** Mean silhouette over the resamples for each k tried, with its standard error. */
  scores: Array<{ k: number; silhouette: number; se: number }>;
  resamples: number;
  /** How far below the best a k may score and still count as as good: the standard error of the best (at least the tolerance when the structure is weak). */
  noise: number;
}

/**
 * When the structure is weak (best silhouette at most WEAK_STRUCTURE, Kaufman & Rousseeuw's "weak,
 * could be artificial" and below), silhouette differences smaller than SILHOUETTE_TOLERANCE are
 * treated as noise too: they do not show that more segments exist, and each extra segment costs a
 * marketer a campaign. With clear structure only the resampling noise counts (two well-separated
 * clusters merged can cost less than 0.01 of silhouette).
 */
export const SILHOUETTE_TOLERANCE = 0.02;
export const WEAK_STRUCTURE = 0.5;

/**
 * The number of clusters: for each k in [min, max], k-means and the silhouette on `resamples`
 * samples of half of `sampleSize` rows each (different rows, different seedings), then the smallest
 * k whose mean silhouette is within noise of the best: one standard error over the resamples, or,
 * when the structure is weak, `tolerance` if that is larger. On a flat curve more clusters are not
 * more structure.
 */
export function chooseK(
  m: Matrix,
  options: { min?: number; max?: number; sampleSize?: number; resamples?: number; tolerance?: number; seed?: number; onProgress?: (k: number) => void } = {},
): KChoice {
  const min = options.min ?? 8;
  const max = options.max ?? 30;
  if (!(min >= 2 && max >= min)) throw new RangeError(`k range must satisfy 2 ≤ min ≤ max, got ${min}…${max}`);
  const seed = options.seed ?? 1;
  const resamples = Math.max(2, options.resamples ?? 5);
  const size = Math.ceil((options.sampleSize ?? 2000) / 2);
  const samples = Array.from({ length: resamples }, (_, b) => sampleRows(m, size, seed + 7919 * b).sample);
  const top = Math.min(max, samples[0].rows - 1);
  const scores: KChoice['scores'] = [];
  for (let k = min; k <= top; k += 1) {
    options.onProgress?.(k);
    const values = samples.map((sample, b) => silhouette(sample, kMeans(sample, k, { seed: seed + b, restarts: 4 }).labels, k));
    const mean = values.reduce((a, v) => a + v, 0) / resamples;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (resamples - 1);
    scores.push({ k, silhouette: mean, se: Math.sqrt(variance / resamples) });
  }
  if (scores.length === 0) throw new RangeError(`too few rows (${m.rows}) for k ≥ ${min}`);
  const best = scores.reduce((p, q) => (q.silhouette > p.silhouette ? q : p));
  const noise = best.silhouette <= WEAK_STRUCTURE ? Math.max(best.se, options.tolerance ?? SILHOUETTE_TOLERANCE) : best.se;
  const chosen = scores.find((s) => s.silhouette >= best.silhouette - noise) ?? best;
  return { k: chosen.k, bestK: best.k, scores, resamples, noise };
}

/**
 * Stable cluster ids across runs: each new centroid takes the id of the nearest previous one,
 * closest pairs first (greedy matching), and centroids left over get fresh ids from `fresh()`.
 */
export function matchClusterIds(previous: Array<{ id: string; centroid: ArrayLike<number> }>, centroids: Float64Array, cols: number, fresh: () => string): string[] {
  const k = centroids.length / cols;
  const pairs: Array<{ p: number; c: number; d: number }> = [];
  for (let p = 0; p < previous.length; p += 1) {
    const prev = Float64Array.from(previous[p].centroid);
    if (prev.length !== cols) continue; // features changed: no match
    for (let c = 0; c < k; c += 1) pairs.push({ p, c, d: squaredDistance(prev, 0, centroids, c * cols, cols) });
  }
  pairs.sort((x, y) => x.d - y.d);
  const ids: Array<string | undefined> = new Array(k).fill(undefined);
  const used = new Set<number>();
  for (const { p, c } of pairs) {
    if (ids[c] !== undefined || used.has(p)) continue;
    ids[c] = previous[p].id;
    used.add(p);
  }
  return ids.map((id) => id ?? fresh());
}

/** Adjusted Rand index (Hubert & Arabie 1985) of two labellings: 1 identical, ~0 random. */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError('labellings must have the same length');
  const n = a.length;
  const table = new Map<string, number>();
  const rowsA = new Map<number, number>();
  const colsB = new Map<number, number>();
  for (let i = 0; i < n; i += 1) {
    const key = `${a[i]}|${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rowsA.set(a[i], (rowsA.get(a[i]) ?? 0) + 1);
    colsB.set(b[i], (colsB.get(b[i]) ?? 0) + 1);
  }
  const choose2 = (x: number) => (x * (x - 1)) / 2;
  let index = 0;
  for (const v of table.values()) index += choose2(v);
  let sumA = 0;
  for (const v of rowsA.values()) sumA += choose2(v);
  let sumB = 0;
  for (const v of colsB.values()) sumB += choose2(v);
  const expected = (sumA * sumB) / choose2(n);
  const maxIndex = (sumA + sumB) / 2;
  return maxIndex === expected ? 1 : (index - expected) / (maxIndex - expected);
}
