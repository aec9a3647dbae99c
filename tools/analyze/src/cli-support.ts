import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** `--name value` pairs (and bare `--flag`s listed in `flags`); unknown names are refused. */
export function parseArgs(argv: string[], known: string[], flags: string[] = []): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${arg}`);
    const name = arg.slice(2);
    if (!known.includes(name) && !flags.includes(name)) throw new UsageError(`unknown option --${name}`);
    if (flags.includes(name)) {
      values.set(name, 'true');
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
    values.set(name, value);
    i += 1;
  }
  return values;
}

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

/** Runs a CLI's main: usage errors exit 2 with the usage, anything else exits 1 with its message. */
export function runCli(usage: string, main: () => void | Promise<void>): void {
  Promise.resolve()
    .then(main)
    .catch((error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`${error.message}\n\n${usage}\n`);
        process.exit(2);
      }
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    });
}
