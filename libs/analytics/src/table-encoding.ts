import { matrix, type Matrix } from './kmeans';

export interface EncodedTable {
  x: Matrix;
  /** One name per column of `x`: `orders`, `orders (missing)`, `country=DE`, `country=(other)`. */
  featureNames: string[];
  /** How each source column was used. */
  columns: Array<{ name: string; kind: 'numeric' | 'categorical'; blanks: number; levels?: number }>;
}

const isBlank = (v: string | undefined) => v === undefined || v.trim() === '' || /^(na|n\/a|null|nan)$/i.test(v.trim());
const parseNumber = (v: string) => Number(v.trim().replace(/,(?=\d{3}\b)/g, ''));

/**
 * Turns text columns into model features: a column whose non-blank values are (≥ 95 %) numbers is
 * numeric, blanks filled with its mean plus a "(missing)" indicator when it has any; any other
 * column is one-hot encoded over its most frequent values (up to `maxLevels`, the rest "(other)",
 * blanks "(blank)"). The first level is dropped as the reference.
 */
export function encodeTable(rows: Array<Record<string, string | undefined>>, columnNames: string[], options: { maxLevels?: number } = {}): EncodedTable {
  const maxLevels = options.maxLevels ?? 20;
  const builders: Array<{ names: string[]; value: (row: Record<string, string | undefined>) => number[] }> = [];
  const columns: EncodedTable['columns'] = [];
  for (const name of columnNames) {
    const present = rows.map((r) => r[name]).filter((v): v is string => !isBlank(v));
    const blanks = rows.length - present.length;
    const numeric = present.length > 0 && present.filter((v) => Number.isFinite(parseNumber(v))).length >= 0.95 * present.length;
    if (numeric) {
      const values = present.map(parseNumber).filter(Number.isFinite);
      const mean = values.reduce((s, v) => s + v, 0) / (values.length || 1);
      const read = (r: Record<string, string | undefined>) => {
        const raw = r[name];
        const v = isBlank(raw) ? NaN : parseNumber(raw as string);
        return Number.isFinite(v) ? v : NaN;
      };
      builders.push(
        blanks > 0
          ? { names: [name, `${name} (missing)`], value: (r) => (Number.isNaN(read(r)) ? [mean, 1] : [read(r), 0]) }
          : { names: [name], value: (r) => [Number.isNaN(read(r)) ? mean : read(r)] },
      );
      columns.push({ name, kind: 'numeric', blanks });
      continue;
    }
    const counts = new Map<string, number>();
    for (const r of rows) {
      const v = isBlank(r[name]) ? '(blank)' : (r[name] as string).trim();
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([v]) => v);
    const kept = ranked.slice(0, maxLevels);
    const levels = ranked.length > maxLevels ? [...kept, '(other)'] : kept;
    // The most frequent level is the reference (all zeros), so the columns are not collinear with the bias.
    const encoded = levels.slice(1);
    const position = new Map(encoded.map((l, i) => [l, i]));
    builders.push({
      names: encoded.map((l) => `${name}=${l}`),
      value: (r) => {
        const out = new Array<number>(encoded.length).fill(0);
        const raw = isBlank(r[name]) ? '(blank)' : (r[name] as string).trim();
        const level = kept.includes(raw) ? raw : '(other)';
        const at = position.get(level);
        if (at !== undefined) out[at] = 1;
        return out;
      },
    });
    columns.push({ name, kind: 'categorical', blanks, levels: levels.length });
  }
  const featureNames = builders.flatMap((b) => b.names);
  const x = matrix(rows.length, featureNames.length);
  rows.forEach((r, i) => {
    let j = 0;
    for (const b of builders) for (const v of b.value(r)) x.data[i * x.cols + j++] = v;
  });
  return { x, featureNames, columns };
}

/** A yes/no column as 0/1: 1/0, true/false, yes/no, y/n (any case); anything else is refused with its row. */
export function binaryLabels(rows: Array<Record<string, string | undefined>>, column: string): Uint8Array {
  const out = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    const v = (r[column] ?? '').trim().toLowerCase();
    if (['1', 'true', 'yes', 'y', '1.0'].includes(v)) out[i] = 1;
    else if (['0', 'false', 'no', 'n', '0.0'].includes(v)) out[i] = 0;
    else throw new RangeError(`row ${i + 2}: label column "${column}" must be 1/0, true/false or yes/no, got "${r[column] ?? ''}"`);
  });
  return out;
}
