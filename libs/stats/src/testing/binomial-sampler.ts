import type { Random } from '@segmenta/analytics';

/**
 * Binomial(n, p) draws by inverting its CDF (a binary search in a table), so a simulated arm of n
 * users costs one uniform instead of n. For the specs' simulations only.
 */
export function binomialSampler(n: number, p: number): (random: Random) => number {
  const cdf: number[] = [];
  let probability = (1 - p) ** n;
  let cumulative = 0;
  for (let k = 0; k <= n; k += 1) {
    cumulative += probability;
    cdf.push(cumulative);
    probability *= ((n - k) / (k + 1)) * (p / (1 - p));
  }
  return (random) => {
    const u = random();
    // The smallest k with u < CDF(k); the rounding residue above the last entry maps to n.
    let low = 0;
    let high = n;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (u < cdf[middle]) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}
