import { matrix } from './kmeans';
import { areaUnderRoc, calibrationTable, predictProbabilities, trainLogistic, trainPropensity } from './propensity';
import { normal, seededRandom } from './random';
import { binaryLabels, encodeTable } from './table-encoding';

/** Rows with a known logistic signal: logit = -1 + 1.5·x0 − 2·x1 + 0·x2. */
function simulated(n: number, seed: number) {
  const random = seededRandom(seed);
  const x = matrix(n, 3);
  const y = new Uint8Array(n);
  const trueProbability = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const [a, b, c] = [normal(random), normal(random), normal(random)];
    x.data.set([a * 3 + 10, b, c * 100], i * 3); // different scales: the model standardises
    const p = 1 / (1 + Math.exp(-(-1 + 1.5 * a - 2 * b)));
    trueProbability[i] = p;
    y[i] = random() < p ? 1 : 0;
  }
  return { x, y, trueProbability };
}

describe('area under the ROC curve', () => {
  it('counts ranks with ties as the Mann–Whitney statistic does', () => {
    expect(areaUnderRoc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(areaUnderRoc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(areaUnderRoc([1, 2, 3], [0, 0, 1])).toBe(1);
  });
});

describe('propensity model', () => {
  it('recovers a known signal: held-out AUC close to the true model’s, calibrated deciles', () => {
    const { x, y, trueProbability } = simulated(20_000, 4);
    const report = trainPropensity(x, y, { featureNames: ['a', 'b', 'noise'], seed: 9 });
    const ceiling = areaUnderRoc(trueProbability, y); // the best any model can do on these labels
    expect(report.testRows).toBeGreaterThan(4000);
    expect(report.auc).toBeGreaterThan(ceiling - 0.01);
    // Weights on the standardised scale: 1.5·3/3 for a, −2 for b, ~0 for noise.
    expect(report.model.weights[0]).toBeCloseTo(1.5, 0);
    expect(report.model.weights[1]).toBeCloseTo(-2, 0);
    expect(Math.abs(report.model.weights[2])).toBeLessThan(0.1);
    for (const bin of report.calibration) expect(Math.abs(bin.meanPredicted - bin.observedRate)).toBeLessThan(0.06);
    expect(report.calibration).toHaveLength(10);
  });

  it('gives 0.5 AUC on labels with no signal', () => {
    const random = seededRandom(6);
    const x = matrix(5000, 2);
    for (let i = 0; i < x.data.length; i += 1) x.data[i] = normal(random);
    const y = Array.from({ length: 5000 }, () => (random() < 0.3 ? 1 : 0));
    expect(Math.abs(trainPropensity(x, y).auc - 0.5)).toBeLessThan(0.05);
  });

  it('holds out both classes whenever each has two rows or more (a stratified split), so AUC is defined', () => {
    // 4 positives in 60 rows: a plain 25 % draw left every positive out of the test rows for some seeds.
    const { x } = simulated(60, 12);
    const y = Array.from({ length: 60 }, (_, i) => (i % 15 === 0 ? 1 : 0));
    for (let seed = 1; seed <= 200; seed += 1) {
      const report = trainPropensity(x, y, { seed });
      expect({ seed, auc: Number.isFinite(report.auc) }).toEqual({ seed, auc: true });
      expect(report.testRows).toBe(15); // 25 % of each class: 1 of 4 positives, 14 of 56 negatives
      expect(report.trainRows).toBe(45);
    }
  });

  it('shrinks weights as the L2 penalty grows', () => {
    const { x, y } = simulated(2000, 7);
    const weak = trainLogistic(x, y, { l2: 0.01 });
    const strong = trainLogistic(x, y, { l2: 2000 });
    expect(Math.abs(strong.weights[0])).toBeLessThan(Math.abs(weak.weights[0]) / 5);
    expect(weak.converged).toBe(true);
  });

  it('refuses labels that are not 0/1 or have one class only', () => {
    expect(() => trainLogistic(matrix(2, 1), [0, 2])).toThrow('label of row 1 must be 0 or 1, got 2');
    expect(() => trainLogistic(matrix(2, 1), [1, 1])).toThrow('the label needs both classes, got 2 positive of 2');
  });

  it('scores in [0, 1] and calibrates in equal-count bins', () => {
    const { x, y } = simulated(1000, 8);
    const scores = predictProbabilities(trainLogistic(x, y), x);
    expect(Math.min(...scores)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...scores)).toBeLessThanOrEqual(1);
    expect(calibrationTable(scores, y, 4).map((b) => b.count)).toEqual([250, 250, 250, 250]);
  });
});

describe('table encoding', () => {
  const rows = [
    { orders: '3', country: 'DE', spend: '1,200.5', churned: 'yes' },
    { orders: '', country: 'FR', spend: '80', churned: 'no' },
    { orders: '1', country: '', spend: '20', churned: 'No' },
    { orders: '7', country: 'DE', spend: 'n/a', churned: '1' },
  ];

  it('standardisable numbers with missing indicators, one-hot text with blanks as a level', () => {
    const { x, featureNames, columns } = encodeTable(rows, ['orders', 'country', 'spend']);
    expect(featureNames).toEqual(['orders', 'orders (missing)', 'country=(blank)', 'country=FR', 'spend', 'spend (missing)']);
    expect(columns.map((c) => [c.name, c.kind, c.blanks])).toEqual([
      ['orders', 'numeric', 1],
      ['country', 'categorical', 1],
      ['spend', 'numeric', 1],
    ]);
    // Row 2: orders blank → mean of 3, 1, 7 = 11/3, flagged.
    expect(Array.from(x.data.subarray(6, 12))).toEqual([11 / 3, 1, 0, 1, 80, 0]);
    expect(x.data[4]).toBe(1200.5);
  });

  it('reads yes/no labels and names a bad one with its CSV line', () => {
    expect(Array.from(binaryLabels(rows, 'churned'))).toEqual([1, 0, 0, 1]);
    expect(() => binaryLabels([{ churned: 'maybe' }], 'churned')).toThrow('row 2: label column "churned" must be 1/0, true/false or yes/no, got "maybe"');
  });
});
