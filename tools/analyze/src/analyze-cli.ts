import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError, createProgressBar, exitOnFailure, parseCommandLine, runCommand, type CommandIo } from '@segmenta/cli';
import { csvField, currencyCode, moneyFormat } from './cli-support';
import { analyzeOrders, type Analysis } from './customer-analysis';
import { readOrders, type OrderColumns } from './orders-reader';
import { clvDefinition, kChoiceText, renderReport } from './report-html';

const USAGE = `Usage: npm run analyze -- --orders <file.csv> [options]
  --out <folder>              where to write report.html and the CSVs (default: analysis/)
  --customer-column <name>    default: customer_id, CustomerID, customer, …
  --order-column <name>       order or invoice id; lines of one order are summed (default: order_id, InvoiceNo, …)
  --date-column <name>        default: InvoiceDate, order_date, date, timestamp, …
  --amount-column <name>      order or line value (default: amount, total, revenue, sales, …)
  --quantity-column <name>    with --price-column, when there is no amount: value = quantity × unit price
  --price-column <name>
  --category-column <name>    optional: names segments after what they buy
  --product-column <name>     product id (default: StockCode, sku, product_id, …): matches cancellations to their orders
  --date-format <format>      iso (default), or e.g. YYYY-MM-DD, M/D/YYYY H:mm, DD.MM.YYYY, YYYYMMDD
  --currency <code>           the file's currency (ISO 4217: GBP, EUR, USD, …), shown with every amount (default: ¤)
  --margin <0…1>              share of revenue that is profit, for CLV (default 1: revenue CLV)
  --k-min <n> --k-max <n>     range for the number of discovered segments (default 8–30); the smallest k whose
                              silhouette is within noise of the best is taken
  --seed <n>                  for the clustering (default 1)

Reads the orders (negative orders are returns and cancellations: matched to the orders they undo,
which then count with what was kept or, fully cancelled, not at all), fits BG/NBD and Gamma-Gamma, scores RFM, lifecycle, P(alive), expected orders and CLV
per customer, discovers segments with persona cards, and writes a self-contained report.html,
customers.csv and memberships.csv. Needs no server.`;

function number(args: Map<string, string>, name: string, fallback: number, check: (v: number) => boolean, rule: string): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!check(value)) throw new UsageError(`--${name} must be ${rule}, got ${raw}`);
  return value;
}

/** A number for the CSV; empty when there is none. */
const fixed = (value: number | null, digits: number) => (value === null ? '' : value.toFixed(digits));
const isoDate = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

function writeOutputs(folder: string, analysis: Analysis, html: string, currency: string | null): string[] {
  mkdirSync(folder, { recursive: true });
  const nameOf = new Map(analysis.personas.map((p) => [p.cluster, p.name]));
  const customers = [
    'customer_id,orders,returns,revenue,aov,first_order,last_order,recency_days,tenure_days,top_category,country,p_alive,churn_risk,expected_orders_90d,clv,rfm_r,rfm_f,rfm_m,rfm_segment,lifecycle_stage,cluster,currency',
    ...analysis.customers.map((c) =>
      [
        c.customerId,
        c.orders,
        c.returns,
        c.revenue.toFixed(2),
        fixed(c.aov, 2),
        isoDate(c.firstOrderAt),
        isoDate(c.lastOrderAt),
        fixed(c.recencyDays, 1),
        fixed(c.tenureDays, 1),
        c.topCategory ?? '',
        c.country ?? '',
        fixed(c.pAlive, 4),
        fixed(c.churnRisk, 4),
        fixed(c.expectedOrders90d, 4),
        fixed(c.clv, 2),
        c.rfm.r || '',
        c.rfm.f || '',
        c.rfm.m || '',
        c.rfm.segment,
        c.lifecycle,
        nameOf.get(c.cluster) ?? '',
        currency ?? '',
      ]
        .map(csvField)
        .join(','),
    ),
  ];
  const memberships = ['customer_id,kind,segment'];
  for (const c of analysis.customers) {
    // Customers without a purchase are in no cluster and no RFM cell.
    if (c.cluster >= 0) memberships.push([c.customerId, 'cluster', nameOf.get(c.cluster) ?? ''].map(csvField).join(','));
    if (c.rfm.segmentName) memberships.push([c.customerId, 'rfm', c.rfm.segmentName].map(csvField).join(','));
    memberships.push([c.customerId, 'lifecycle', c.lifecycle].map(csvField).join(','));
  }
  const files = [join(folder, 'report.html'), join(folder, 'customers.csv'), join(folder, 'memberships.csv')];
  writeFileSync(files[0], html);
  writeFileSync(files[1], `${customers.join('\n')}\n`);
  writeFileSync(files[2], `${memberships.join('\n')}\n`);
  return files;
}

/** The whole command; returns the analysis and the files written. */
export async function runAnalyze(argv: string[], print: (text: string) => void, quiet = false): Promise<{ analysis: Analysis; files: string[] }> {
  const names = [
    'orders',
    'out',
    'customer-column',
    'order-column',
    'date-column',
    'amount-column',
    'quantity-column',
    'price-column',
    'category-column',
    'product-column',
    'date-format',
    'margin',
    'currency',
    'k-min',
    'k-max',
    'seed',
  ];
  const args = parseCommandLine(argv, Object.fromEntries(names.map((name) => [name, 'string' as const]))).values;
  const file = args.get('orders');
  if (!file) throw new UsageError('--orders is required');
  const columns: OrderColumns = {
    customer: args.get('customer-column'),
    order: args.get('order-column'),
    date: args.get('date-column'),
    amount: args.get('amount-column'),
    quantity: args.get('quantity-column'),
    price: args.get('price-column'),
    category: args.get('category-column'),
    product: args.get('product-column'),
  };
  const margin = number(args, 'margin', 1, (v) => v > 0 && v <= 1, 'between 0 and 1');
  const currency = args.has('currency') ? currencyCode(args.get('currency') as string) : null;
  const money = moneyFormat(currency, 2);
  const wholeMoney = moneyFormat(currency);
  const kMin = number(args, 'k-min', 8, (v) => Number.isInteger(v) && v >= 2, 'a whole number ≥ 2');
  const kMax = number(args, 'k-max', 30, (v) => Number.isInteger(v) && v >= kMin, `a whole number ≥ --k-min (${kMin})`);
  const seed = number(args, 'seed', 1, Number.isInteger, 'a whole number');
  const bar = quiet ? { update: () => undefined, done: () => undefined } : createProgressBar();
  const started = Date.now();
  const { documents, summary } = await readOrders(file, {
    columns,
    dateFormat: args.get('date-format') ?? 'iso',
    onProgress: (share, rows) => bar.update(`reading ${basename(file)}: ${rows.toLocaleString('en-US')} rows`, share),
  });
  const skipped = summary.skipped.noCustomer + summary.skipped.badDate + summary.skipped.badAmount;
  if (summary.orders === 0) throw new Error(`no usable orders in ${file} (${summary.rows} rows, ${skipped} skipped${summary.examples.length ? `; ${summary.examples.slice(0, 3).join('; ')}` : ''})`);
  const analysis = analyzeOrders(documents, { clvMonths: 12, margin, monthlyDiscountRate: 0.01, kMin, kMax, seed, onStep: (step, share) => bar.update(step, share) });
  bar.update('writing the report');
  const files = writeOutputs(resolve(args.get('out') ?? 'analysis'), analysis, renderReport(analysis, summary, basename(file), currency), currency);
  bar.done();
  const c = summary.columns;
  print(
    `read ${summary.rows.toLocaleString('en-US')} rows (customer: ${c.customer}, order: ${c.order}, date: ${c.date}, ${c.amount ? `amount: ${c.amount}` : `quantity × price: ${c.quantity} × ${c.price}`})\n`,
  );
  const r = analysis.reconciliation;
  print(
    `${summary.orders.toLocaleString('en-US')} orders and ${summary.returns.toLocaleString('en-US')} returns or cancellations (${money(summary.returnedValue)} returned) from ${analysis.customers.length.toLocaleString('en-US')} customers\n`,
  );
  print(
    `returns and cancellations matched to their orders (by order id ${money(r.matchedById)}, by product ${money(r.matchedByProduct)}, by amount ${money(r.matchedByAmount)}; unmatched, bought before the file: ${money(r.unmatchedValue)}): ${r.fullyCancelled} orders fully cancelled and left out of the models, ${r.partlyRefunded} partly refunded and reduced\n`,
  );
  if (r.zeroValue > 0 || analysis.withoutPurchase > 0)
    print(`${r.zeroValue} orders worth 0 are no purchases; ${analysis.withoutPurchase} customers with no positive purchase have no P(alive), expected orders or CLV (empty in customers.csv)\n`);
  if (skipped > 0)
    print(
      `skipped ${skipped} rows: ${summary.skipped.noCustomer} without customer, ${summary.skipped.badDate} with an unreadable date, ${summary.skipped.badAmount} with an unreadable amount${summary.examples.length ? ` (e.g. ${summary.examples.slice(0, 3).join('; ')})` : ''}\n`,
    );
  print(
    `BG/NBD r ${analysis.bgnbd.params.r.toFixed(3)} α ${analysis.bgnbd.params.alpha.toFixed(3)} a ${analysis.bgnbd.params.a.toFixed(3)} b ${analysis.bgnbd.params.b.toFixed(3)}${analysis.gammaGamma ? ` · Gamma-Gamma p ${analysis.gammaGamma.params.p.toFixed(2)} q ${analysis.gammaGamma.params.q.toFixed(2)} γ ${analysis.gammaGamma.params.gamma.toFixed(2)}` : ''}\n`,
  );
  print(`${analysis.dropout.identified ? 'dropout' : 'note'}: ${analysis.dropout.text}\n`);
  const totalClv = analysis.customers.reduce((s, c) => s + (c.clv ?? 0), 0);
  print(`expected value of the next ${analysis.clv.months} months (CLV): ${wholeMoney(totalClv)} (${clvDefinition(analysis, currency)})\n`);
  print(`${kChoiceText(analysis.kChoice)}\n  silhouette by k: ${analysis.kChoice.scores.map((s) => `${s.k} ${s.silhouette.toFixed(3)}`).join(', ')}\n`);
  print(`${analysis.personas.length} discovered segments:\n`);
  for (const p of [...analysis.personas].sort((a, b) => b.size - a.size))
    print(`  ${p.name.padEnd(48)} ${String(p.size).padStart(7)} customers  ${(p.revenueShare * 100).toFixed(1).padStart(5)} % of net revenue  → ${p.treatment.kind}\n`);
  print(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${files.join(', ')}\n`);
  return { analysis, files };
}

/** `npm run analyze -- …` as a function of its arguments: the exit code (0 after --help, 2 after a mistake). */
export function analyzeCommand(argv: string[], io?: CommandIo): Promise<number> {
  const print = io ? io.stdout : (text: string) => process.stdout.write(text);
  return runCommand(USAGE, () => runAnalyze(argv, print).then(() => undefined), { io });
}

// void: analyzeCommand never rejects; it turns every error into an exit code.
if (require.main === module) void analyzeCommand(process.argv.slice(2)).then(exitOnFailure);
