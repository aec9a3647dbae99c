import { seededRandom } from '@segmenta/analytics';
import { banditWeights } from './bandit-weights';

describe('banditWeights', () => {
  const row = (variant: string, segmentKey: string, n: number, sumY: number, sumY2 = sumY) => ({ variant, segmentKey, metricKey: 'orders', n, sumY, sumY2 });

  it('moves each segment’s traffic toward its own best variant, keeping every variant at the floor', () => {
    const rows = [row('a', 'vip', 400, 20), row('b', 'vip', 400, 80), row('a', 'new', 400, 80), row('b', 'new', 400, 20), row('a', '', 800, 100), row('b', '', 800, 100)];
    const weights = banditWeights(['a', 'b'], ['vip', 'new'], { key: 'orders', type: 'conversion' }, rows, 0.1, seededRandom(1));
    // 20 % against 5 % of 400 each: b is best in vip beyond doubt, a in new; the loser keeps its floor.
    expect(weights.vip[0]).toBeCloseTo(0.1, 6);
    expect(weights.vip[1]).toBeCloseTo(0.9, 6);
    expect(weights.new[0]).toBeCloseTo(0.9, 6);
    expect(weights.new[1]).toBeCloseTo(0.1, 6);
  });

  it('splits evenly with no data, and reads revenue as means', () => {
    const even = banditWeights(['a', 'b', 'c'], ['vip'], { key: 'orders', type: 'conversion' }, [], 0.05, seededRandom(2));
    even.vip.forEach((w) => expect(w).toBeGreaterThan(0.2));
    const revenue = banditWeights(
      ['a', 'b'],
      ['vip'],
      { key: 'orders', type: 'revenue' },
      [row('a', 'vip', 500, 500 * 10, 500 * (100 + 100)), row('b', 'vip', 500, 500 * 30, 500 * (900 + 100))],
      0.05,
      seededRandom(3),
    );
    expect(revenue.vip[1]).toBeCloseTo(0.95, 6);
  });
});
