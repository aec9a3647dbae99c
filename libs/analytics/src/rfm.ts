/**
 * RFM scoring (ARCHITECTURE §6): recency, frequency and monetary value scored 1–5 by population
 * quintiles. The cut points are computed over the whole population on a schedule and stored, so
 * that a customer can be scored between two runs without looking at anyone else.
 */

/** Four ascending cut points: the 20th, 40th, 60th and 80th percentiles. */
export type QuintileCuts = readonly [number, number, number, number];

/**
 * Percentile with linear interpolation between closest ranks, as PostgreSQL's `percentile_cont`
 * (and numpy's default) computes it. `sorted` must be ascending and non-empty.
 */
export function percentileCont(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty population');
  const position = fraction * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** The quintile cut points of a population (null when it is empty). */
export function quintileCuts(values: ArrayLike<number>): QuintileCuts | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return [0.2, 0.4, 0.6, 0.8].map((f) => percentileCont(sorted, f)) as unknown as QuintileCuts;
}

/** 1–5 where more is better (frequency, monetary): 1 + the number of cut points below the value. */
export function scoreHigherIsBetter(value: number, cuts: QuintileCuts): number {
  let score = 1;
  for (const cut of cuts) if (value > cut) score += 1;
  return score;
}

/** 1–5 where less is better (recency in days): 5 − the number of cut points below the value. */
export function scoreLowerIsBetter(value: number, cuts: QuintileCuts): number {
  return 6 - scoreHigherIsBetter(value, cuts);
}

export interface RfmGridSegment {
  /** Stable key, used for the built-in segments. */
  key: string;
  name: string;
  /** The (R, F) score cells it covers. */
  cells: ReadonlyArray<readonly [number, number]>;
  description: string;
}

function cells(rs: number[], fs: number[], except: Array<[number, number]> = []): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const r of rs) for (const f of fs) if (!except.some(([er, ef]) => er === r && ef === f)) out.push([r, f]);
  return out;
}

/**
 * The standard named RFM grid over recency and frequency scores (the widely used R×F map), with
 * "Lost" carved out of "Hibernating" as the lowest cell. Every one of the 25 cells belongs to
 * exactly one segment.
 */
export const RFM_GRID: readonly RfmGridSegment[] = [
  { key: 'champions', name: 'Champions', cells: cells([5], [4, 5]), description: 'Bought recently, buy often' },
  { key: 'loyal', name: 'Loyal', cells: cells([3, 4], [4, 5]), description: 'Buy often, responsive to loyalty programmes' },
  { key: 'potential-loyalist', name: 'Potential Loyalist', cells: cells([4, 5], [2, 3]), description: 'Recent customers with more than one order' },
  { key: 'new', name: 'New', cells: cells([5], [1]), description: 'Bought for the first time very recently' },
  { key: 'promising', name: 'Promising', cells: cells([4], [1]), description: 'Recent first-time buyers' },
  { key: 'need-attention', name: 'Need Attention', cells: cells([3], [3]), description: 'Average recency and frequency' },
  { key: 'about-to-sleep', name: 'About to Sleep', cells: cells([3], [1, 2]), description: 'Below-average recency and frequency' },
  { key: 'at-risk', name: 'At Risk', cells: cells([1, 2], [3, 4]), description: 'Bought often, but long ago' },
  { key: 'cant-lose-them', name: "Can't Lose Them", cells: cells([1, 2], [5]), description: 'Used to buy most often; have not come back' },
  { key: 'hibernating', name: 'Hibernating', cells: cells([1, 2], [1, 2], [[1, 1]]), description: 'Low recency and frequency' },
  { key: 'lost', name: 'Lost', cells: cells([1], [1]), description: 'Lowest recency and frequency' },
];

/** The grid segment of an (R, F) pair of scores. */
export function rfmGridSegment(r: number, f: number): RfmGridSegment {
  const found = RFM_GRID.find((segment) => segment.cells.some(([cr, cf]) => cr === r && cf === f));
  if (!found) throw new RangeError(`RFM scores must be integers 1–5, got R=${r} F=${f}`);
  return found;
}
