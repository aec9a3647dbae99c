import { createReadStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { UsageError, createProgressBar, parseCommandLine, runCli } from '@segmenta/cli';
import { ROW_MAPPERS, type ImportKind, type RowProblem } from './row-mapping';

/**
 * `npm run import -- --kind orders --file orders.csv`: streams a CSV or NDJSON file of customers or
 * orders through ingestion's /v1/batch (the same validation as the API) in constant memory, with a
 * progress bar, and ends with a summary: rows read, imported, rejected with line numbers.
 */
const USAGE = `Usage: npm run import -- --kind customers|orders --file <path.csv|path.ndjson> [options]
  --url <ingestion URL>    default INGESTION_URL or http://127.0.0.1:3001
  --write-key <key>        default WRITE_KEY (create one with POST /v1/sources)
  --batch <n>              rows per request, default 100
  --concurrency <n>        requests in flight, default 4
  --format csv|ndjson      default from the file extension
  --dry-run                read, map and check every row without sending anything`;

interface Options {
  kind: ImportKind;
  file: string;
  url: string;
  writeKey: string;
  batch: number;
  concurrency: number;
  format: 'csv' | 'ndjson';
  dryRun: boolean;
}

/** How many rejected rows the summary lists; only their count grows with the file. */
const LISTED_REJECTIONS = 50;

interface Rejected {
  line: number;
  problems: RowProblem[];
}

function fail(message: string): never {
  throw new UsageError(message);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseCommandLine(argv, {
    kind: 'string',
    file: 'string',
    url: 'string',
    'write-key': 'string',
    batch: 'string',
    concurrency: 'string',
    format: 'string',
    'dry-run': 'boolean',
  });
  const kind = values.get('kind');
  if (kind !== 'customers' && kind !== 'orders') fail('--kind must be customers or orders');
  const file = values.get('file') ?? fail('--file is required');
  try {
    statSync(file);
  } catch {
    fail(`--file ${file}: no such file`);
  }
  const dryRun = values.has('dry-run');
  const writeKey = values.get('write-key') ?? process.env.WRITE_KEY ?? (dryRun ? '' : fail('--write-key (or WRITE_KEY) is required'));
  const batch = Number(values.get('batch') ?? 100);
  if (!Number.isInteger(batch) || batch < 1 || batch > 500) fail('--batch must be an integer from 1 to 500');
  const concurrency = Number(values.get('concurrency') ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) fail('--concurrency must be an integer from 1 to 64');
  const format = values.get('format') ?? (/\.(nd)?jsonl?$/i.test(extname(file)) || /\.ndjson$/i.test(file) ? 'ndjson' : 'csv');
  if (format !== 'csv' && format !== 'ndjson') fail('--format must be csv or ndjson');
  return { kind, file, url: (values.get('url') ?? process.env.INGESTION_URL ?? 'http://127.0.0.1:3001').replace(/\/$/, ''), writeKey, batch, concurrency, format, dryRun };
}

/** Rows with their line numbers, read lazily so memory stays flat whatever the file size. */
async function* readRows(options: Options, onBytes: (bytes: number) => void): AsyncGenerator<{ line: number; row: Record<string, unknown> } | { line: number; problem: RowProblem }> {
  const stream = createReadStream(options.file);
  stream.on('data', (chunk) => onBytes(chunk.length));
  if (options.format === 'ndjson') {
    let line = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      line += 1;
      if (text.trim() === '') continue;
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value !== 'object' || value === null || Array.isArray(value)) yield { line, problem: { field: 'line', problem: 'not a JSON object' } };
        else yield { line, row: value as Record<string, unknown> };
      } catch (error) {
        yield { line, problem: { field: 'line', problem: `not JSON: ${(error as Error).message}` } };
      }
    }
    return;
  }
  const parser = stream.pipe(parse({ columns: true, skip_empty_lines: true, trim: true, bom: true, info: true, relax_column_count: true }));
  for await (const record of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    yield { line: record.info.lines, row: record.record };
  }
}

async function sendBatch(options: Options, calls: Array<Record<string, unknown>>): Promise<Array<{ index: number; details: RowProblem[] }>> {
  const authorization = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
  for (let attempt = 1; ; attempt += 1) {
    let response: Response | undefined;
    try {
      response = await fetch(`${options.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ batch: calls }),
      });
    } catch (error) {
      if (attempt >= 5) throw new Error(`ingestion at ${options.url} is not reachable: ${(error as Error).message}`);
    }
    if (response) {
      const body = (await response.json().catch(() => ({}))) as { rejected?: Array<{ index: number; details: RowProblem[] }>; details?: RowProblem[]; message?: string };
      if (response.status === 200) return body.rejected ?? [];
      if (response.status === 400) {
        // No row of the batch was valid: every row is rejected with its own details.
        return calls.map((_, index) => ({ index, details: (body.details ?? []).filter((d) => d.field.startsWith(`batch[${index}]`)) }));
      }
      if (response.status === 401 || response.status === 403) throw new Error(`ingestion refused the write key: ${body.message ?? response.status}`);
      // 503 and other 5xx: the rows keep their messageIds, so a retry stores each once.
      if (attempt >= 5) throw new Error(`ingestion answered ${response.status} five times: ${body.message ?? ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const mapRow = ROW_MAPPERS[options.kind];
  const totalBytes = statSync(options.file).size;
  const started = Date.now();
  let bytesRead = 0;
  let rowsRead = 0;
  let imported = 0;
  let rejectedCount = 0;
  // The lowest line numbers only, kept sorted: memory stays flat on a file full of bad rows.
  const listed: Rejected[] = [];
  const reject = (entry: Rejected) => {
    rejectedCount += 1;
    if (listed.length === LISTED_REJECTIONS && entry.line > listed[listed.length - 1].line) return;
    const at = listed.findIndex((r) => r.line > entry.line);
    listed.splice(at === -1 ? listed.length : at, 0, entry);
    if (listed.length > LISTED_REJECTIONS) listed.pop();
  };
  const bar = createProgressBar();
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 200) return;
    lastDraw = now;
    const share = totalBytes ? Math.min(1, bytesRead / totalBytes) : 1;
    const rate = Math.round(rowsRead / Math.max(0.001, (now - started) / 1000));
    bar.update(`${rowsRead.toLocaleString('en-US')} rows  ${rate.toLocaleString('en-US')} rows/s  ${rejectedCount} rejected`, share);
  };

  let pending: Array<{ line: number; call: Record<string, unknown> }> = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const send = async (batch: typeof pending) => {
    const refused = options.dryRun
      ? []
      : await sendBatch(
          options,
          batch.map((p) => p.call),
        );
    for (const r of refused) reject({ line: batch[r.index].line, problems: r.details.map((d) => ({ field: d.field.replace(/^batch\[\d+\]\.?/, '') || 'row', problem: d.problem })) });
    imported += batch.length - refused.length;
    draw();
  };
  // Up to --concurrency requests in flight; reading waits for a free slot (back-pressure).
  const flush = async () => {
    if (pending.length > 0) {
      const request = send(pending).catch((error: unknown) => void (failure ??= error));
      pending = [];
      inFlight.add(request);
      // void: `request` never rejects (its error is kept in `failure`), so neither does this.
      void request.finally(() => inFlight.delete(request));
    }
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
  };

  for await (const item of readRows(options, (n) => (bytesRead += n))) {
    rowsRead += 1;
    if ('problem' in item) {
      reject({ line: item.line, problems: [item.problem] });
      continue;
    }
    const mapped = mapRow(item.row);
    if (!mapped.ok) reject({ line: item.line, problems: mapped.problems });
    else pending.push({ line: item.line, call: mapped.call });
    if (pending.length >= options.batch) await flush();
    draw();
  }
  await flush();
  await Promise.all(inFlight);
  if (failure) throw failure;
  draw(true);
  bar.done();

  const seconds = (Date.now() - started) / 1000;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`${options.dryRun ? 'Checked (dry run, nothing sent)' : 'Imported'} ${options.kind} from ${options.file} in ${seconds.toFixed(1)} s`);
  out(`  rows read   ${rowsRead}`);
  out(`  ${options.dryRun ? 'valid      ' : 'imported   '} ${imported}`);
  out(`  rejected    ${rejectedCount}`);
  for (const r of listed) out(`    line ${r.line}: ${r.problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`);
  if (rejectedCount > listed.length) out(`    … and ${rejectedCount - listed.length} more`);
  process.exitCode = rejectedCount > 0 ? 1 : 0;
}

runCli(USAGE, main, { failurePrefix: '\nImport failed: ', failureExitCode: 2 });
