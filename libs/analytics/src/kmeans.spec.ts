import { adjustedRandIndex, chooseK, kMeans, matchClusterIds, matrix, silhouette, standardize, type Matrix } from './kmeans';
import { describeClusters, type ClusterFeature } from './personas';
import { normal, seededRandom } from './random';

/** Points around `centres` (one per cluster) with unit noise; returns the data and the planted labels. */
function planted(centres: number[][], perCluster: number, seed: number, noise = 1): { m: Matrix; truth: Int32Array } {
  const random = seededRandom(seed);
  const cols = centres[0].length;
  const m = matrix(centres.length * perCluster, cols);
  const truth = new Int32Array(m.rows);
  // Interleaved, so that no algorithm can lean on the order.
  for (let i = 0; i < m.rows; i += 1) {
    const c = i % centres.length;
    truth[i] = c;
    for (let j = 0; j < cols; j += 1) m.data[i * cols + j] = centres[c][j] + noise * normal(random);
  }
  return { m, truth };
}

function randomCentres(k: number, cols: number, spread: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: k }, () => Array.from({ length: cols }, () => (random() - 0.5) * spread));
}

describe('adjusted Rand index', () => {
  it('is 1 for the same partition under other names and about 0 for unrelated ones', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9])).toBe(1);
    const random = seededRandom(3);
    const a = Array.from({ length: 5000 }, () => Math.floor(random() * 5));
    const b = Array.from({ length: 5000 }, () => Math.floor(random() * 5));
    expect(Math.abs(adjustedRandIndex(a, b))).toBeLessThan(0.01);
    // Worked example (Hubert & Arabie's formula by hand): contingency [[2,1],[0,2]].
    expect(adjustedRandIndex([0, 0, 0, 1, 1], [0, 0, 1, 1, 1])).toBeCloseTo(0.16667, 4);
  });
});

describe('k-means', () => {
  it('recovers planted clusters (ARI > 0.9) with Lloyd iterations and is deterministic for a seed', () => {
    const { m, truth } = planted(randomCentres(8, 10, 16, 11), 500, 12);
    const first = kMeans(m, 8, { seed: 5 });
    expect(first.miniBatch).toBe(false);
    expect(adjustedRandIndex(first.labels, truth)).toBeGreaterThan(0.9);
    const again = kMeans(m, 8, { seed: 5 });
    expect(Array.from(again.labels)).toEqual(Array.from(first.labels));
    expect(again.inertia).toBe(first.inertia);
  });

  it('recovers planted clusters with mini-batches above 50,000 rows', () => {
    const { m, truth } = planted(randomCentres(12, 10, 16, 21), 5000, 22);
    const fit = kMeans(m, 12, { seed: 2 });
    expect(fit.miniBatch).toBe(true);
    expect(adjustedRandIndex(fit.labels, truth)).toBeGreaterThan(0.9);
  });

  it('chooses the planted k by silhouette on a sample', () => {
    const { m } = planted(randomCentres(6, 4, 20, 31), 400, 32);
    const choice = chooseK(m, { min: 3, max: 10, sampleSize: 1200, seed: 4 });
    expect(choice.k).toBe(6);
    expect(choice.scores.map((s) => s.k)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(choice.noise).toBe(choice.scores[3].se); // clear structure: only the resampling noise
  });

  it('prefers the smallest k within noise of the best (one standard error over resamples, at least 0.02 when the structure is weak) on a flat silhouette curve', () => {
    // Uniform noise in 5 dimensions: no k is better than another, whatever k-means makes of it.
    const random = seededRandom(9);
    const m = matrix(3000, 5);
    for (let i = 0; i < m.data.length; i += 1) m.data[i] = random();
    const choice = chooseK(m, { min: 8, max: 14, sampleSize: 1200, seed: 2 });
    const best = choice.scores.reduce((p, q) => (q.silhouette > p.silhouette ? q : p));
    const chosen = choice.scores.find((s) => s.k === choice.k)!;
    expect(choice.scores.every((s) => s.se > 0)).toBe(true);
    expect(best.silhouette).toBeLessThan(0.5); // no structure to speak of
    const noise = Math.max(best.se, 0.02);
    expect(choice.noise).toBe(noise);
    expect(chosen.silhouette).toBeGreaterThanOrEqual(best.silhouette - noise);
    expect(choice.scores.filter((s) => s.k < choice.k).every((s) => s.silhouette < best.silhouette - noise)).toBe(true);
    // The whole curve lies within 0.02 of its top: the smallest k it was allowed.
    expect(Math.max(...choice.scores.map((s) => s.silhouette)) - Math.min(...choice.scores.map((s) => s.silhouette))).toBeLessThan(0.02);
    expect(choice.k).toBe(8);
    expect(choice.bestK).toBe(best.k);
  });

  it('scores a clean two-blob split by silhouette as an independent formula does', () => {
    // Two points at 0 and 1, two at 10 and 11: a(i) = 1, b(i) = mean distance to the other pair.
    const m = matrix(4, 1);
    m.data.set([0, 1, 10, 11]);
    const s = (a: number, b: number) => (b - a) / Math.max(a, b);
    const expected = (s(1, 10.5) + s(1, 9.5) + s(1, 9.5) + s(1, 10.5)) / 4;
    expect(silhouette(m, [0, 0, 1, 1], 2)).toBeCloseTo(expected, 12);
  });

  it('keeps cluster ids across re-runs by matching centroids', () => {
    const { m } = planted(randomCentres(5, 3, 20, 41), 300, 42);
    const first = kMeans(m, 5, { seed: 1 });
    let next = 0;
    const firstIds = matchClusterIds([], first.centroids, 3, () => `c${(next += 1)}`);
    const second = kMeans(m, 5, { seed: 99 }); // other seed: other label numbers
    const secondIds = matchClusterIds(
      firstIds.map((id, c) => ({ id, centroid: first.centroids.subarray(c * 3, c * 3 + 3) })),
      second.centroids,
      3,
      () => `c${(next += 1)}`,
    );
    // The same customers end up under the same ids.
    const idOf = (ids: string[], labels: Int32Array) => Array.from(labels, (l) => ids[l]);
    const a = idOf(firstIds, first.labels);
    const b = idOf(secondIds, second.labels);
    expect(a.filter((id, i) => id === b[i]).length / a.length).toBeGreaterThan(0.98);
  });

  it('rejects a k larger than the data', () => {
    expect(() => kMeans(matrix(3, 2), 4)).toThrow('k-means needs at least k = 4 rows, got 3');
  });
});

describe('personas', () => {
  const features: ClusterFeature[] = [
    { key: 'revenue', role: 'value' },
    { key: 'orders', role: 'frequency' },
    { key: 'recency_days', role: 'recency' },
    { key: 'aov', role: 'basket' },
    { key: 'tenure_days', role: 'tenure' },
  ];
  // revenue, orders, recency, aov, tenure
  const groups = {
    vip: [2400, 30, 5, 80, 900],
    lapsing: [1800, 12, 220, 150, 1000],
    newcomers: [60, 1, 10, 60, 20],
    bargain: [500, 25, 20, 20, 600],
  };

  it('recovers planted customer types, names each distinctly from its features and suggests the matching treatment', () => {
    const random = seededRandom(8);
    const centres = Object.values(groups);
    const perGroup = 400;
    const values = matrix(centres.length * perGroup, 5);
    const truth = new Int32Array(values.rows);
    const categories: string[] = [];
    for (let i = 0; i < values.rows; i += 1) {
      const g = i % centres.length;
      truth[i] = g;
      for (let j = 0; j < 5; j += 1) values.data[i * 5 + j] = Math.max(0, centres[g][j] * (1 + 0.1 * normal(random)));
      categories.push(g === 0 ? 'cameras' : ['books', 'music', 'games'][Math.floor(random() * 3)]);
    }
    const { z } = standardize(values);
    const fit = kMeans(z, 4, { seed: 3 });
    expect(adjustedRandIndex(fit.labels, truth)).toBeGreaterThan(0.9);
    const revenue = Array.from({ length: values.rows }, (_, i) => values.data[i * 5]);
    const personas = describeClusters({ features, values, labels: fit.labels, k: 4, revenue, topCategory: categories, lifecycleStage: categories.map(() => 'active') });
    const byGroup = (g: number) => personas[fit.labels[truth.indexOf(g)]];

    const names = personas.map((p) => p.name);
    expect(new Set(names).size).toBe(4);
    for (const name of names) expect(name).not.toMatch(/cluster/i);
    expect(byGroup(0).name).toMatch(/high-value|frequent/i);
    expect(byGroup(0).name).toContain('cameras');
    expect(byGroup(1).name).toMatch(/lapsing/i);
    expect(byGroup(2).name).toMatch(/^New/);
    expect(byGroup(1).treatment.kind).toBe('win-back');
    expect(byGroup(2).treatment.kind).toBe('onboarding');
    expect(byGroup(0).treatment.kind).toBe('vip');
    expect(byGroup(3).treatment.kind).toBe('cross-sell');
    expect(byGroup(0).topCategories[0]).toEqual({ category: 'cameras', share: 1 });
    expect(personas.reduce((s, p) => s + p.customerShare, 0)).toBeCloseTo(1, 12);
    expect(personas.reduce((s, p) => s + p.revenueShare, 0)).toBeCloseTo(1, 12);
    expect(byGroup(0).revenueShare).toBeGreaterThan(0.4);
    expect(byGroup(2).medians.orders).toBeCloseTo(1, 0);
    expect(byGroup(2).lifecycleMix).toEqual([{ stage: 'active', share: 1 }]);
  });

  it('tells look-alike clusters apart by what distinguishes each (category, basket, country, tenure), never by an ordinal', () => {
    // Five clusters of new, recently active one-order customers beside long-standing and lapsing ones.
    const looks = [
      { centre: [60, 1, 10, 60, 10], category: 'books', country: 'United Kingdom' },
      { centre: [60, 1, 10, 60, 10], category: 'garden', country: 'United Kingdom' },
      { centre: [60, 1, 10, 60, 10], category: 'books', country: 'France' },
      { centre: [150, 1, 10, 150, 10], category: 'books', country: 'United Kingdom' },
      { centre: [60, 1, 10, 60, 25], category: 'books', country: 'United Kingdom' },
    ];
    const others = [
      { centre: groups.vip, category: 'books', country: 'United Kingdom' },
      { centre: groups.lapsing, category: 'books', country: 'United Kingdom' },
    ];
    const all = [...looks, ...others];
    const random = seededRandom(4);
    const per = 60;
    const values = matrix(all.length * per, 5);
    const labels: number[] = [];
    const categories: string[] = [];
    const countries: string[] = [];
    for (let i = 0; i < values.rows; i += 1) {
      const g = Math.floor(i / per);
      labels.push(g);
      for (let j = 0; j < 5; j += 1) values.data[i * 5 + j] = all[g].centre[j] * (1 + 0.05 * normal(random));
      categories.push(all[g].category);
      countries.push(all[g].country);
    }
    const personas = describeClusters({ features, values, labels, k: all.length, revenue: labels.map(() => 1), topCategory: categories, country: countries });
    const names = personas.map((p) => p.name);
    expect(new Set(names).size).toBe(all.length);
    for (const name of names) expect(name).not.toMatch(/\b(second|third|fourth|fifth|sixth|group|\d+th)\b/i);
    expect(names[1]).toMatch(/garden/);
    expect(names[2]).toMatch(/France/);
    expect(names[3]).toMatch(/big(ger)?[- ]basket/);
    expect(names[4]).toMatch(/longer tenure/);
    // The look-alikes share their first words: the distinction is added, not swapped in.
    const stem = names[0].split(',')[0];
    for (const name of [names[1], names[2], names[4]]) expect(name.startsWith(stem)).toBe(true);
  });

  it('suggests a treatment that fits the lifecycle mix: a segment mostly lapsed is won back, not nurtured', () => {
    // Long-standing frequent customers (by their features), 63 % of whom have lapsed.
    const centres = [
      [900, 14, 25, 64, 900],
      [60, 1, 10, 60, 20],
      [300, 3, 30, 100, 300],
    ];
    const values = matrix(300, 5);
    const labels: number[] = [];
    const stages: string[] = [];
    const random = seededRandom(6);
    for (let i = 0; i < 300; i += 1) {
      const g = Math.floor(i / 100);
      labels.push(g);
      for (let j = 0; j < 5; j += 1) values.data[i * 5 + j] = centres[g][j] * (1 + 0.05 * normal(random));
      stages.push(g === 0 ? (i % 100 < 63 ? 'lapsed' : 'loyal') : g === 1 ? 'new' : 'active');
    }
    const personas = describeClusters({ features, values, labels, k: 3, revenue: labels.map(() => 1), lifecycleStage: stages });
    expect(personas[0].lifecycleMix[0]).toEqual({ stage: 'lapsed', share: 0.63 });
    expect(personas[0].treatment.kind).toBe('win-back');
    expect(personas[0].treatment.text).toMatch(/63 % .*lapsed/);
    // Without the lifecycle mix the same features would be nurtured or rewarded, never won back.
    const blind = describeClusters({ features, values, labels, k: 3, revenue: labels.map(() => 1) });
    expect(blind[0].treatment.kind).not.toBe('win-back');
    expect(personas[1].treatment.kind).toBe('onboarding');
  });

  it('keeps names unique when two clusters look alike', () => {
    const values = matrix(6, 5);
    values.data.set([...groups.vip, ...groups.vip, ...groups.vip.map((v) => v * 1.01), ...groups.newcomers, ...groups.newcomers, ...groups.newcomers]);
    const personas = describeClusters({ features, values, labels: [0, 0, 1, 2, 2, 2], k: 3, revenue: [1, 1, 1, 1, 1, 1] });
    expect(new Set(personas.map((p) => p.name)).size).toBe(3);
  });
});
