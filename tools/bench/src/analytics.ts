import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { WORKSPACE_ROOT } from '@segmenta/infra';
import { beta, bgnbdTotalLogLikelihood, exponential, fitBgNbd, fitGammaGamma, gamma, kMeans, matrix, normal, seededRandom, summarizePurchases, type BgNbdParams } from '@segmenta/analytics';
import { fmt, median, print } from './report';

/** Customers simulated from BG/NBD (day-granular times, in weeks) with Gamma-Gamma spend. */
function simulateCustomers(n: number, truth: BgNbdParams, seed: number) {
  const random = seededRandom(seed);
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const zbar = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const lambda = gamma(random, truth.r, truth.alpha);
    const p = beta(random, truth.a, truth.b);
    const days = 7 + Math.floor(random() * 358);
    T[i] = days / 7;
    const nu = gamma(random, 3.7, 15);
    let t = 0;
    let spent = 0;
    for (;;) {
      t += exponential(random, lambda);
      if (t > T[i]) break;
      x[i] += 1;
      tx[i] = Math.floor(t * 7) / 7;
      spent += gamma(random, 6, nu);
      if (random() < p) break;
    }
    zbar[i] = x[i] > 0 ? spent / x[i] : 0;
  }
  return { x, tx, T, zbar };
}

function cdnowSummary() {
  const candidates = [process.env.SEGMENTA_DATASETS, join(WORKSPACE_ROOT, '../shared/datasets'), '/work/shared/datasets'].filter((c): c is string => !!c);
  const dir = candidates.find((c) => existsSync(join(c, 'cdnow', 'CDNOW_sample.txt')));
  if (!dir) return undefined;
  const utc = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8));
  const purchases = readFileSync(join(dir, 'cdnow', 'CDNOW_sample.txt'), 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l) => {
      const [, id, date, , dollars] = l.trim().split(/\s+/);
      return { customerId: id, at: utc(date), amount: Number(dollars) };
    });
  const rows = summarizePurchases(purchases, { calibrationEnd: utc('19970930') });
  return { x: rows.map((r) => r.x), tx: rows.map((r) => r.tx), T: rows.map((r) => r.T), zbar: rows.map((r) => r.zbar) };
}

const time = <T>(work: () => T): { ms: number; result: T } => {
  const started = performance.now();
  const result = work();
  return { ms: performance.now() - started, result };
};

/** BG/NBD + Gamma-Gamma fits (pure computation, no services). */
export function benchAnalytics(options: { runs: number; customers: number }): void {
  print('');
  print(`analytics: BG/NBD + Gamma-Gamma fits, ${options.runs} runs`);
  const truth = { r: 0.5, alpha: 6, a: 0.9, b: 3 };
  const data = simulateCustomers(options.customers, truth, 42);
  const cdnow = cdnowSummary();
  const evaluation: number[] = [];
  const fits: number[] = [];
  const cdnowFits: number[] = [];
  let report = '';
  for (let run = 1; run <= options.runs; run += 1) {
    evaluation.push(time(() => bgnbdTotalLogLikelihood(truth, data)).ms);
    const fit = time(() => ({ bg: fitBgNbd(data), gg: fitGammaGamma(data) }));
    fits.push(fit.ms);
    const { bg, gg } = fit.result;
    report = `r ${bg.params.r.toFixed(3)}, α ${bg.params.alpha.toFixed(2)}, a ${bg.params.a.toFixed(3)}, b ${bg.params.b.toFixed(3)} (true 0.5, 6, 0.9, 3); ${bg.iterations} BFGS iterations, converged ${bg.converged}; Gamma-Gamma on ${fmt(gg.customers)} repeaters, converged ${gg.converged}`;
    if (cdnow) cdnowFits.push(time(() => ({ bg: fitBgNbd(cdnow), gg: fitGammaGamma(cdnow) })).ms);
    print(
      `  run ${run}: ${fmt(options.customers)} customers fitted in ${fits[fits.length - 1].toFixed(0)} ms (one log-likelihood pass ${evaluation[evaluation.length - 1].toFixed(0)} ms)${cdnow ? `; CDNOW in ${cdnowFits[cdnowFits.length - 1].toFixed(0)} ms` : ''}`,
    );
  }
  print(`  ${report}`);
  print('');
  print('| measure | median | target |');
  print('|---|---|---|');
  print(`| one BG/NBD log-likelihood pass over ${fmt(options.customers)} customers (baseline) | ${median(evaluation).toFixed(0)} ms | |`);
  print(`| BG/NBD + Gamma-Gamma fit, ${fmt(options.customers)} customers | ${median(fits).toFixed(0)} ms (${(median(fits) / median(evaluation)).toFixed(0)} passes' worth) | < 2,000 ms |`);
  if (cdnow) print(`| BG/NBD + Gamma-Gamma fit, CDNOW sample (2,357 customers) | ${median(cdnowFits).toFixed(0)} ms | < 200 ms |`);
  else print('| CDNOW fit | not run: ../shared/datasets not found (set SEGMENTA_DATASETS) | < 200 ms |');
}

/** k-means (k = 20) on rows × 10 standardised features with 20 planted clusters; peak RSS sampled. */
export function benchKMeans(options: { runs: number; rows: number }): void {
  const cols = 10;
  const k = 20;
  print('');
  print(`analytics: k-means, k = ${k}, ${fmt(options.rows)} × ${cols} features, ${options.runs} runs`);
  const random = seededRandom(5);
  const centres = Array.from({ length: k }, () => Array.from({ length: cols }, () => (random() - 0.5) * 12));
  const m = matrix(options.rows, cols);
  for (let i = 0; i < options.rows; i += 1) {
    const c = Math.floor(random() * k);
    for (let j = 0; j < cols; j += 1) m.data[i * cols + j] = centres[c][j] + normal(random);
  }
  const pass: number[] = [];
  const fits: number[] = [];
  let peak = process.memoryUsage().rss;
  for (let run = 1; run <= options.runs; run += 1) {
    // Baseline: one assignment pass of every row to the k planted centres (what a Lloyd step costs).
    const flat = Float64Array.from(centres.flat());
    pass.push(
      time(() => {
        let sum = 0;
        for (let i = 0; i < options.rows; i += 1) {
          let best = Infinity;
          for (let c = 0; c < k; c += 1) {
            let d = 0;
            for (let j = 0; j < cols; j += 1) {
              const x = m.data[i * cols + j] - flat[c * cols + j];
              d += x * x;
            }
            if (d < best) best = d;
          }
          sum += best;
        }
        return sum;
      }).ms,
    );
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const fit = time(() => kMeans(m, k, { seed: run }));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    fits.push(fit.ms);
    print(
      `  run ${run}: ${(fit.ms / 1000).toFixed(2)} s (${fit.result.miniBatch ? 'mini-batch' : 'Lloyd'}, inertia/row ${(fit.result.inertia / options.rows).toFixed(2)}); one assignment pass ${pass[pass.length - 1].toFixed(0)} ms`,
    );
  }
  print('');
  print('| measure | median | target |');
  print('|---|---|---|');
  print(`| one assignment pass, ${fmt(options.rows)} rows × ${k} centres (baseline) | ${median(pass).toFixed(0)} ms | |`);
  print(
    `| k-means k = ${k}, ${fmt(options.rows)} × ${cols} (k-means++ seeding, 3 restarts) | ${(median(fits) / 1000).toFixed(2)} s (${(median(fits) / median(pass)).toFixed(0)} passes' worth) | < 20 s |`,
  );
  print(`| process peak RSS (data ${((options.rows * cols * 8) / 2 ** 20).toFixed(0)} MB) | ${(peak / 2 ** 20).toFixed(0)} MB | < 1 GB |`);
}

/**
 * `npm run analyze` end to end on a generated order-line file of about `orders` orders (one run:
 * it takes tens of seconds), against the time to merely parse the same CSV in the same run.
 */
export async function benchAnalyzeCli(options: { orders: number }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'segmenta-analyze-bench-'));
  try {
    const file = join(dir, 'orders.csv');
    // The generator averages about 5.64 orders per customer over two years.
    const customers = Math.round(options.orders / 5.64);
    print('');
    print(`analytics: npm run analyze on ~${fmt(options.orders)} orders (${fmt(customers)} customers), one run`);
    const node = (script: string, args: string[]) =>
      execFileSync(process.execPath, ['-r', join(WORKSPACE_ROOT, 'tools/scripts/register-paths.js'), join(WORKSPACE_ROOT, 'dist/tools/analyze/src', script), ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    print(`  ${node('generate-orders.js', ['--customers', String(customers), '--out', file]).trim()} (${(statSync(file).size / 2 ** 20).toFixed(0)} MB)`);
    const parseOnly = performance.now();
    let rows = 0;
    for await (const record of createReadStream(file).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true }))) rows += (record as string[]).length > 0 ? 1 : 0;
    const parseMs = performance.now() - parseOnly;
    const started = performance.now();
    const output = node('analyze-cli.js', ['--orders', file, '--date-format', 'M/D/YYYY H:mm', '--out', join(dir, 'out')]);
    const ms = performance.now() - started;
    const orders = /([\d,]+) orders and/.exec(output)?.[1] ?? '?';
    print(`  parsed ${fmt(rows)} CSV rows in ${(parseMs / 1000).toFixed(1)} s; analysed ${orders} orders in ${(ms / 1000).toFixed(1)} s`);
    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| parse the CSV only (baseline, ${fmt(rows)} rows) | ${(parseMs / 1000).toFixed(1)} s | |`);
    print(`| npm run analyze end to end, ${orders} orders (process start to report written) | ${(ms / 1000).toFixed(1)} s | < 60 s |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
