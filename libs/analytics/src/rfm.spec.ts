import { percentileCont, quintileCuts, RFM_GRID, rfmGridSegment, scoreHigherIsBetter, scoreLowerIsBetter } from './rfm';

describe('RFM quintiles', () => {
  it('interpolates percentiles like PostgreSQL percentile_cont / numpy', () => {
    // numpy.percentile(range(1, 11), [20, 40, 60, 80]) == [2.8, 4.6, 6.4, 8.2]
    const cuts = quintileCuts([10, 9, 8, 7, 6, 5, 4, 3, 2, 1])!;
    expect(cuts.map((c) => Number(c.toFixed(10)))).toEqual([2.8, 4.6, 6.4, 8.2]);
    expect(percentileCont([5], 0.8)).toBe(5);
    expect(quintileCuts([])).toBeNull();
  });

  it('puts a fifth of a uniform population in each score, ties together', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    const cuts = quintileCuts(values)!;
    const counts = [0, 0, 0, 0, 0];
    for (const v of values) counts[scoreHigherIsBetter(v, cuts) - 1] += 1;
    expect(counts).toEqual([200, 200, 200, 200, 200]);
    // 60 % of customers with one order: they all share the lowest frequency score.
    const frequencies = [...Array(60).fill(1), ...Array(25).fill(2), ...Array(15).fill(4)];
    const fCuts = quintileCuts(frequencies)!;
    expect(new Set(frequencies.filter((f) => f === 1).map((f) => scoreHigherIsBetter(f, fCuts)))).toEqual(new Set([1]));
    expect(scoreHigherIsBetter(4, fCuts)).toBeGreaterThan(scoreHigherIsBetter(2, fCuts));
  });

  it('scores recency the other way round', () => {
    const cuts = quintileCuts([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])!;
    expect(scoreLowerIsBetter(1, cuts)).toBe(5);
    expect(scoreLowerIsBetter(10, cuts)).toBe(1);
    expect(scoreLowerIsBetter(5, cuts)).toBe(3);
  });
});

describe('RFM grid', () => {
  it('assigns each of the 25 cells to exactly one named segment', () => {
    const seen = new Map<string, string>();
    for (const segment of RFM_GRID) {
      for (const [r, f] of segment.cells) {
        expect(seen.get(`${r}${f}`)).toBeUndefined();
        seen.set(`${r}${f}`, segment.name);
      }
    }
    expect(seen.size).toBe(25);
    expect(RFM_GRID.map((s) => s.name)).toEqual([
      'Champions',
      'Loyal',
      'Potential Loyalist',
      'New',
      'Promising',
      'Need Attention',
      'About to Sleep',
      'At Risk',
      "Can't Lose Them",
      'Hibernating',
      'Lost',
    ]);
  });

  it('names the corners as the standard map does', () => {
    expect(rfmGridSegment(5, 5).name).toBe('Champions');
    expect(rfmGridSegment(5, 1).name).toBe('New');
    expect(rfmGridSegment(1, 5).name).toBe("Can't Lose Them");
    expect(rfmGridSegment(1, 1).name).toBe('Lost');
    expect(rfmGridSegment(2, 2).name).toBe('Hibernating');
    expect(() => rfmGridSegment(0, 3)).toThrow('R=0 F=3');
  });
});
