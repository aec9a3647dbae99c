/** One purchase: who, when (epoch ms) and its value (negative for a return). */
export interface Purchase {
  customerId: string;
  at: number;
  amount: number;
}

export interface CustomerSummary {
  customerId: string;
  /** Repeat purchases in calibration: distinct purchase days after the first. */
  x: number;
  /** Time from the first purchase day to the last in calibration, in units. */
  tx: number;
  /** Time from the first purchase day to the end of calibration, in units. */
  T: number;
  /** Mean value of the repeat purchases (same-day purchases merged); 0 when x = 0. */
  zbar: number;
  /** Value of the first purchase day. */
  firstValue: number;
  /** Repeat purchase days after calibration (holdout), when an observation end is given. */
  holdoutX: number;
  /** Total value in calibration. */
  revenue: number;
}

export interface SummaryOptions {
  /** Last day of calibration (inclusive), epoch ms of any time that UTC day. */
  calibrationEnd: number;
  /** Last day of the holdout (inclusive); purchases after it are ignored. */
  observationEnd?: number;
  /** Days per time unit: 7 for weeks (the BTYD convention), 1 for days. */
  unitDays?: number;
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

/**
 * The (x, tx, T, zbar) summary the BG/NBD and Gamma-Gamma models fit, built from purchases the way
 * the BTYD literature does for CDNOW: purchases on the same (UTC) day are merged into one; only
 * customers whose first purchase falls in calibration are summarised.
 */
export function summarizePurchases(purchases: Iterable<Purchase>, options: SummaryOptions): CustomerSummary[] {
  const unit = options.unitDays ?? 7;
  const calibrationEnd = dayOf(options.calibrationEnd);
  const observationEnd = options.observationEnd === undefined ? Infinity : dayOf(options.observationEnd);
  // customer → day → value
  const days = new Map<string, Map<number, number>>();
  for (const p of purchases) {
    const day = dayOf(p.at);
    if (day > observationEnd) continue;
    let byDay = days.get(p.customerId);
    if (!byDay) days.set(p.customerId, (byDay = new Map()));
    byDay.set(day, (byDay.get(day) ?? 0) + p.amount);
  }
  const summaries: CustomerSummary[] = [];
  for (const [customerId, byDay] of days) {
    const sorted = [...byDay.keys()].sort((a, b) => a - b);
    const first = sorted[0];
    if (first > calibrationEnd) continue;
    let x = 0;
    let last = first;
    let repeatValue = 0;
    let holdoutX = 0;
    let revenue = 0;
    for (const day of sorted) {
      const value = byDay.get(day) as number;
      if (day <= calibrationEnd) {
        revenue += value;
        if (day !== first) {
          x += 1;
          repeatValue += value;
          last = day;
        }
      } else holdoutX += 1;
    }
    summaries.push({ customerId, x, tx: (last - first) / unit, T: (calibrationEnd - first) / unit, zbar: x > 0 ? repeatValue / x : 0, firstValue: byDay.get(first) as number, holdoutX, revenue });
  }
  return summaries;
}
