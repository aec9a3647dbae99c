import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UsageError } from '@segmenta/cli';

/** A CSV file with a header row, as records (BOM, CRLF and quoted fields handled). */
export function readCsv(path: string): { header: string[]; rows: Array<Record<string, string>> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
  if (records.length === 0) throw new UsageError(`${path} is empty`);
  const header = records[0].map((h) => h.trim());
  const rows = records.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
  return { header, rows };
}

/** A CSV field, quoted when it needs to be. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Formats money with its currency: "£1,704" for a known ISO 4217 code, "¤1,704" (the generic
 * currency sign) when the file's currency was not given.
 */
export function moneyFormat(currency: string | null, digits = 0): (value: number) => string {
  const options = { minimumFractionDigits: digits, maximumFractionDigits: digits };
  if (!currency) return (value) => `${value < 0 ? '−' : ''}¤${Math.abs(value).toLocaleString('en-US', options)}`;
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency, currencyDisplay: 'narrowSymbol', ...options });
  return (value) => format.format(value);
}

/** An ISO 4217 code Intl knows, upper-cased; throws a UsageError otherwise. */
export function currencyCode(text: string): string {
  const code = text.trim().toUpperCase();
  try {
    if (!/^[A-Z]{3}$/.test(code)) throw new RangeError();
    new Intl.NumberFormat('en-US', { style: 'currency', currency: code });
  } catch {
    throw new UsageError(`--currency must be an ISO 4217 code such as GBP, EUR or USD, got ${text}`);
  }
  return code;
}
