import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chooseVariation, fnv1a32, getBucketRanges, getEqualWeights, hash, inNamespace, type BucketRange, type Namespace } from './growthbook-hashing';

/** Run against GrowthBook's cross-SDK cases (spec 0.8.0), listed in ../shared/datasets/README.md. */

/** The shared datasets: SEGMENTA_DATASETS, else `shared/datasets` beside the checkout or in /work. */
function datasetsDir(): string {
  const candidates = [process.env.SEGMENTA_DATASETS, resolve(__dirname, '../../../../shared/datasets'), '/work/shared/datasets'].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(join(c, 'growthbook', 'cases.json')));
  if (!found) throw new Error(`GrowthBook cases not found (looked in ${candidates.join(', ')}); set SEGMENTA_DATASETS to the shared datasets folder`);
  return found;
}

interface GrowthBookCases {
  specVersion: string;
  hash: [seed: string, value: string, version: number, expected: number | null][];
  getBucketRange: [name: string, args: [numVariations: number, coverage: number, weights: number[] | null], expected: BucketRange[]][];
  chooseVariation: [name: string, n: number, ranges: BucketRange[], expected: number][];
  inNamespace: [name: string, id: string, namespace: Namespace, expected: boolean][];
  getEqualWeights: [numVariations: number, expected: number[]][];
}

const cases = JSON.parse(readFileSync(join(datasetsDir(), 'growthbook', 'cases.json'), 'utf8')) as GrowthBookCases;

/** The SDKs' tests compare floating-point ranges and weights after flooring to 1e-8. */
const floor8 = (x: number) => Math.floor(x * 1e8) / 1e8;

describe('GrowthBook cases file', () => {
  it('is spec 0.8.0 with the documented number of cases per section', () => {
    expect(cases.specVersion).toBe('0.8.0');
    expect([cases.hash.length, cases.getBucketRange.length, cases.chooseVariation.length, cases.inNamespace.length, cases.getEqualWeights.length]).toEqual([15, 13, 13, 16, 6]);
  });
});

describe('fnv1a32', () => {
  // The published FNV-1a 32-bit test vectors (ASCII, so code units are bytes).
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('hashes %p to %p', (text, expected) => {
    expect(fnv1a32(text)).toBe(expected);
  });

  it('hashes UTF-16 code units: a character outside the BMP counts as its two surrogates', () => {
    // Feed the code units one at a time by hand: h = (h ^ unit) · 16777619 mod 2³².
    let expected = 0x811c9dc5;
    for (const unit of [0xd83d, 0xde00, 0x41]) expected = Number((BigInt(expected ^ unit) * 16777619n) % 2n ** 32n);
    expect(fnv1a32('\u{1F600}A')).toBe(expected >>> 0);
  });
});

describe('hash', () => {
  it.each(cases.hash)('hash(%p, %p, v%p) = %p', (seed, value, version, expected) => {
    expect(hash(seed, value, version)).toBe(expected);
  });
});

describe('getBucketRanges', () => {
  it.each(cases.getBucketRange)('%s', (_name, [numVariations, coverage, weights], expected) => {
    const floorRanges = (ranges: BucketRange[]) => ranges.map(([start, end]) => [floor8(start), floor8(end)]);
    expect(floorRanges(getBucketRanges(numVariations, coverage, weights))).toEqual(floorRanges(expected));
  });
});

describe('chooseVariation', () => {
  it.each(cases.chooseVariation)('%s', (_name, n, ranges, expected) => {
    expect(chooseVariation(n, ranges)).toBe(expected);
  });
});

describe('inNamespace', () => {
  it.each(cases.inNamespace)('%s', (_name, id, namespace, expected) => {
    expect(inNamespace(id, namespace)).toBe(expected);
  });
});

describe('getEqualWeights', () => {
  it.each(cases.getEqualWeights)('%p variations', (numVariations, expected) => {
    expect(getEqualWeights(numVariations).map(floor8)).toEqual(expected.map(floor8));
  });
});

describe('raising the coverage', () => {
  it('only adds customers and never moves one between variations (10,000 ids, coverage 0.2 → 0.5 → 1.0)', () => {
    const weights = [0.2, 0.3, 0.5];
    const ids = Array.from({ length: 10_000 }, (_, i) => `customer-${i}`);
    const assign = (coverage: number) => {
      const ranges = getBucketRanges(weights.length, coverage, weights);
      return ids.map((id) => chooseVariation(hash('checkout-redesign', id, 2) ?? -1, ranges));
    };
    const stages = [0.2, 0.5, 1].map(assign);
    for (let s = 1; s < stages.length; s += 1) {
      const movedOrDropped = ids.filter((_, i) => stages[s - 1][i] !== -1 && stages[s][i] !== stages[s - 1][i]);
      expect(movedOrDropped).toEqual([]);
    }
    // The property must not hold vacuously: each stage includes about its coverage of the ids.
    const included = stages.map((stage) => stage.filter((v) => v !== -1).length / ids.length);
    expect(included[0]).toBeGreaterThan(0.17);
    expect(included[0]).toBeLessThan(0.23);
    expect(included[1]).toBeGreaterThan(0.47);
    expect(included[1]).toBeLessThan(0.53);
    expect(included[2]).toBe(1);
    // At full coverage the split follows the weights (binomial sd ≤ 0.005).
    for (let v = 0; v < weights.length; v += 1) {
      expect(Math.abs(stages[2].filter((x) => x === v).length / ids.length - weights[v])).toBeLessThan(0.02);
    }
  });
});
