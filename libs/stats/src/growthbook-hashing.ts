/**
 * Variation assignment compatible with GrowthBook's SDKs (spec 0.8.0): the same id, seed and
 * weights land in the same variation here as in any GrowthBook SDK.
 */

/** [start, end) of a variation on the unit interval. */
export type BucketRange = [start: number, end: number];

/** [namespace id, start, end): the slice of a namespace an experiment owns. */
export type Namespace = [namespaceId: string, start: number, end: number];

/** 32-bit FNV-1a over UTF-16 code units, unsigned (as the SDKs compute it with charCodeAt). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash >>> 0;
}

/**
 * A value in [0, 1) for an id: v1 = (fnv(value + seed) mod 1000)/1000; v2 hashes twice because v1
 * correlated across experiments whose seeds differ only at the end; null for an unknown version.
 */
export function hash(seed: string, value: string, version: number): number | null {
  if (version === 2) return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000;
  return null;
}

/** n equal weights summing to 1; none for n ≤ 0. */
export function getEqualWeights(numVariations: number): number[] {
  if (numVariations <= 0) return [];
  return new Array<number>(numVariations).fill(1 / numVariations);
}

/**
 * One range per variation: range i starts at the cumulative weight of the earlier variations and
 * spans coverage·wᵢ, so raising the coverage only extends ranges and never moves anyone. Weights
 * that are missing, of the wrong length, or not summing to 1 ± 0.01 fall back to equal weights.
 */
export function getBucketRanges(numVariations: number, coverage = 1, weights?: readonly number[] | null): BucketRange[] {
  const clampedCoverage = Math.min(1, Math.max(0, coverage));
  const equal = getEqualWeights(numVariations);
  let used: readonly number[] = weights && weights.length === numVariations ? weights : equal;
  const total = used.reduce((sum, w) => sum + w, 0);
  if (total < 0.99 || total > 1.01) used = equal;
  let cumulative = 0;
  return used.map((w) => {
    const start = cumulative;
    cumulative += w;
    return [start, start + clampedCoverage * w];
  });
}

/** The variation whose range holds n (start ≤ n < end), or −1 when n falls outside every range. */
export function chooseVariation(n: number, ranges: readonly BucketRange[]): number {
  return ranges.findIndex(([start, end]) => n >= start && n < end);
}

/** Whether an id falls in the namespace slice [start, end), hashed with seed '__' + namespace id (v1). */
export function inNamespace(hashValue: string, namespace: Namespace): boolean {
  const [namespaceId, start, end] = namespace;
  const n = hash('__' + namespaceId, hashValue, 1);
  if (n === null) return false;
  return n >= start && n < end;
}
