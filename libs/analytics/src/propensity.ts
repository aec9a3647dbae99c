import { matrix, standardize, type Matrix } from './kmeans';
import { minimizeBfgs } from './optimize';
import { seededRandom } from './random';

/** L2-regularised logistic regression on standardised features. */
export interface LogisticModel {
  featureNames: string[];
  /** Per feature, on the standardised scale. */
  weights: Float64Array;
  bias: number;
  mean: Float64Array;
  sd: Float64Array;
  l2: number;
  iterations: number;
  converged: boolean;
}

const sigmoid = (t: number) => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));

function checkLabels(y: ArrayLike<number>, rows: number): void {
  if (y.length !== rows) throw new RangeError(`${y.length} labels for ${rows} rows`);
  let positives = 0;
  for (let i = 0; i < rows; i += 1) {
    if (y[i] !== 0 && y[i] !== 1) throw new RangeError(`label of row ${i} must be 0 or 1, got ${y[i]}`);
    positives += y[i];
  }
  if (positives === 0 || positives === rows) throw new RangeError(`the label needs both classes, got ${positives} positive of ${rows}`);
}

/**
 * Fits by minimising the mean log-loss plus (l2 / 2n)·|w|² (the bias is not penalised) with BFGS
 * and the analytic gradient.
 */
export function trainLogistic(x: Matrix, y: ArrayLike<number>, options: { featureNames?: string[]; l2?: number } = {}): LogisticModel {
  const { rows, cols } = x;
  checkLabels(y, rows);
  const l2 = options.l2 ?? 1;
  const { z, mean, sd } = standardize(x);
  const objective = (v: number[]) => {
    const gradient = new Array<number>(cols + 1).fill(0);
    let loss = 0;
    for (let i = 0; i < rows; i += 1) {
      let t = v[cols];
      for (let j = 0; j < cols; j += 1) t += v[j] * z.data[i * cols + j];
      // log(1 + e^t) − y·t, computed without overflow.
      loss += (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - y[i] * t;
      const residual = sigmoid(t) - y[i];
      for (let j = 0; j < cols; j += 1) gradient[j] += residual * z.data[i * cols + j];
      gradient[cols] += residual;
    }
    for (let j = 0; j < cols; j += 1) {
      loss += 0.5 * l2 * v[j] * v[j];
      gradient[j] += l2 * v[j];
    }
    return { value: loss / rows, gradient: gradient.map((g) => g / rows) };
  };
  const result = minimizeBfgs(objective, new Array<number>(cols + 1).fill(0), { gradientTolerance: 1e-7, maxIterations: 500 });
  return {
    featureNames: options.featureNames ?? Array.from({ length: cols }, (_, j) => `x${j}`),
    weights: Float64Array.from(result.x.slice(0, cols)),
    bias: result.x[cols],
    mean,
    sd,
    l2,
    iterations: result.iterations,
    converged: result.converged,
  };
}

/** P(y = 1) for every row of `x` (raw scale; the model standardises). */
export function predictProbabilities(model: LogisticModel, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i += 1) {
    let t = model.bias;
    for (let j = 0; j < x.cols; j += 1) t += (model.weights[j] * (x.data[i * x.cols + j] - model.mean[j])) / model.sd[j];
    out[i] = sigmoid(t);
  }
  return out;
}

/** Area under the ROC curve: the chance a random positive scores above a random negative (ties count half). */
export function areaUnderRoc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j += 1;
    const averageRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t += 1) {
      if (labels[order[t]] === 1) {
        rankSum += averageRank;
        positives += 1;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface CalibrationBin {
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/** Predictions grouped into equal-count bins (deciles by default), each with its observed rate. */
export function calibrationTable(scores: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const table: CalibrationBin[] = [];
  for (let b = 0; b < bins; b += 1) {
    const start = Math.floor((b * order.length) / bins);
    const end = Math.floor(((b + 1) * order.length) / bins);
    if (end <= start) continue;
    let predicted = 0;
    let observed = 0;
    for (let t = start; t < end; t += 1) {
      predicted += scores[order[t]];
      observed += labels[order[t]];
    }
    table.push({ from: scores[order[start]], to: scores[order[end - 1]], count: end - start, meanPredicted: predicted / (end - start), observedRate: observed / (end - start) });
  }
  return table;
}

export interface PropensityReport {
  model: LogisticModel;
  trainRows: number;
  testRows: number;
  /** On the held-out rows. */
  auc: number;
  calibration: CalibrationBin[];
  /** Brier score on the held-out rows (mean squared error of the probabilities). */
  brier: number;
}

/**
 * Which rows are held out: a seeded `share` of each class (stratified), at least one of a class that has two rows
 * or more, so the held-out AUC is defined even when one class is rare (a plain draw could hold out no positive).
 */
function stratifiedTestRows(y: ArrayLike<number>, share: number, random: () => number): boolean[] {
  const isTest = new Array<boolean>(y.length).fill(false);
  for (const label of [0, 1]) {
    const rows = Array.from({ length: y.length }, (_, i) => i).filter((i) => y[i] === label);
    for (let i = rows.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const count = rows.length < 2 ? 0 : Math.min(rows.length - 1, Math.max(1, Math.round(share * rows.length)));
    for (const row of rows.slice(0, count)) isTest[row] = true;
  }
  return isTest;
}

/** Trains on a seeded, stratified (1 − testShare) of the rows and reports AUC and calibration on the rest. */
export function trainPropensity(x: Matrix, y: ArrayLike<number>, options: { featureNames?: string[]; l2?: number; testShare?: number; seed?: number } = {}): PropensityReport {
  const testShare = options.testShare ?? 0.25;
  if (!(testShare > 0 && testShare < 1)) throw new RangeError(`testShare must be between 0 and 1, got ${testShare}`);
  const random = seededRandom(options.seed ?? 1);
  const isTest = stratifiedTestRows(y, testShare, random);
  const pick = (test: boolean) => {
    const indices = isTest.flatMap((t, i) => (t === test ? [i] : []));
    const m = matrix(indices.length, x.cols);
    indices.forEach((row, i) => m.data.set(x.data.subarray(row * x.cols, row * x.cols + x.cols), i * x.cols));
    return { m, y: indices.map((i) => y[i]) };
  };
  const train = pick(false);
  const test = pick(true);
  const model = trainLogistic(train.m, train.y, options);
  const scores = predictProbabilities(model, test.m);
  let brier = 0;
  for (let i = 0; i < scores.length; i += 1) brier += (scores[i] - test.y[i]) ** 2;
  return { model, trainRows: train.m.rows, testRows: test.m.rows, auc: areaUnderRoc(scores, test.y), calibration: calibrationTable(scores, test.y), brier: brier / (scores.length || 1) };
}
