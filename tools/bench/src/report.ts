/** What the benchmarks print and how they summarise runs (medians: these machines are noisy). */
export const print = (line: string) => process.stdout.write(`${line}\n`);

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
