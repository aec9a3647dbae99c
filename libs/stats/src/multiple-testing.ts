/**
 * Adjusted p-values for many metrics or variations read at once, as R's p.adjust computes them:
 * reject where the adjusted p-value is below α.
 */

/** Indices of p sorted by p ascending (ties keep their order). */
function ascendingOrder(pValues: readonly number[]): number[] {
  if (pValues.some((p) => !(p >= 0 && p <= 1))) throw new RangeError('p-values must lie in [0, 1]');
  return pValues.map((_, i) => i).sort((a, b) => pValues[a] - pValues[b]);
}

/** Holm's step-down adjustment: controls the family-wise error rate under any dependence. */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const adjusted = new Array<number>(m);
  let running = 0;
  ascendingOrder(pValues).forEach((index, rank) => {
    // The k-th smallest is multiplied by m − k + 1; the running maximum keeps the order of the raw p-values.
    running = Math.max(running, Math.min(1, (m - rank) * pValues[index]));
    adjusted[index] = running;
  });
  return adjusted;
}

/** Benjamini–Hochberg step-up adjustment: controls the false discovery rate for independent (or positively dependent) tests. */
export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const adjusted = new Array<number>(m);
  let running = 1;
  const order = ascendingOrder(pValues);
  for (let rank = m - 1; rank >= 0; rank -= 1) {
    const index = order[rank];
    // From the largest down: m/k·p₍ₖ₎, with a running minimum.
    running = Math.min(running, (m / (rank + 1)) * pValues[index]);
    adjusted[index] = running;
  }
  return adjusted;
}
