import { createWriteStream } from 'node:fs';
import { beta, exponential, gamma, seededRandom } from '@segmenta/analytics';
import { UsageError, parseCommandLine, runCli } from '@segmenta/cli';

/**
 * Generates an order-line CSV in the layout of the UCI "Online Retail" export (InvoiceNo,
 * StockCode, Description, Quantity, InvoiceDate as M/D/YYYY H:mm, UnitPrice, CustomerID, Country)
 * plus a Category column. Customers come from a few personas, each buying as BG/NBD says (Poisson
 * purchases while alive, dropping out after a purchase with probability p) with Gamma spend;
 * about 2 % of orders are later cancelled (invoice "C…", negative quantities).
 */
interface Persona {
  share: number;
  /** Gamma(shape, rate) of purchases per week while alive; Beta(a, b) of dropping out. */
  rate: [number, number];
  dropout: [number, number];
  /** Typical unit price and items per order. */
  price: number;
  items: number;
  categories: string[];
  countries: string[];
}

const PERSONAS: Persona[] = [
  { share: 0.08, rate: [4, 8], dropout: [1, 30], price: 45, items: 4, categories: ['cameras', 'lenses', 'audio'], countries: ['Germany', 'United Kingdom'] },
  { share: 0.22, rate: [2, 8], dropout: [1, 8], price: 12, items: 3, categories: ['books', 'music', 'games'], countries: ['United Kingdom', 'France'] },
  { share: 0.3, rate: [1, 12], dropout: [1, 3], price: 8, items: 2, categories: ['home', 'kitchen', 'garden'], countries: ['United Kingdom', 'Netherlands'] },
  { share: 0.25, rate: [0.5, 10], dropout: [2, 2], price: 25, items: 1, categories: ['fashion', 'shoes', 'accessories'], countries: ['France', 'Spain', 'Italy'] },
  { share: 0.15, rate: [3, 10], dropout: [1, 12], price: 4, items: 8, categories: ['stationery', 'party', 'crafts'], countries: ['United Kingdom'] },
];

const pad = (n: number) => String(n).padStart(2, '0');
const usDate = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${d.getUTCHours()}:${pad(d.getUTCMinutes())}`;
};

/** Customers the `anomalies` option adds, by what is odd about them. */
export interface GeneratedAnomalies {
  /** Every order worth 0. */
  zeroValueOnly: string[];
  /** One huge order cancelled minutes later under another invoice number, and one small order (net £2.90). */
  bigCancelled: string[];
}

export async function generateOrders(options: {
  customers: number;
  out: string;
  seed: number;
  days: number;
  end: number;
  /** Real-export oddities: zero-value invoices and lines, huge orders cancelled minutes later, partial refunds under their own invoice numbers. */
  anomalies?: boolean;
  /** Nobody drops out (BG/NBD's p = 0): data from which dropout cannot be identified. */
  noDropout?: boolean;
}): Promise<{ lines: number; orders: number; anomalies: GeneratedAnomalies }> {
  const random = seededRandom(options.seed);
  const out = createWriteStream(options.out);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  await write('InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country,Category\n');
  const start = options.end - options.days * 86_400_000;
  let invoice = 500000;
  let cancellation = 900000;
  let lines = 0;
  let orders = 0;
  const cumulative = PERSONAS.map((_, i) => PERSONAS.slice(0, i + 1).reduce((s, p) => s + p.share, 0));
  for (let c = 0; c < options.customers; c += 1) {
    const persona = PERSONAS[cumulative.findIndex((x) => random() < x / cumulative[cumulative.length - 1]) ?? 0] ?? PERSONAS[0];
    const customerId = String(12346 + c);
    const country = persona.countries[Math.floor(random() * persona.countries.length)];
    const lambda = gamma(random, persona.rate[0], persona.rate[1]);
    const p = options.noDropout ? 0 : beta(random, persona.dropout[0], persona.dropout[1]);
    const spendScale = gamma(random, 4, 4);
    let t = start + random() * (options.end - start);
    for (let first = true; t <= options.end; first = false) {
      invoice += 1;
      orders += 1;
      const items = 1 + Math.floor(random() * persona.items * 2);
      const cancelled = !first && random() < 0.02;
      const at = usDate(t - (t % 60_000));
      const rows: string[] = [];
      for (let i = 0; i < items; i += 1) {
        const category = persona.categories[Math.floor(random() * persona.categories.length)];
        const stock = `${category.slice(0, 3).toUpperCase()}${100 + Math.floor(random() * 50)}`;
        const quantity = 1 + Math.floor(random() * 3);
        const price = Math.max(0.5, persona.price * spendScale * (0.5 + random())).toFixed(2);
        rows.push(`${invoice},${stock},${category.toUpperCase()} ITEM ${stock},${quantity},${at},${price},${customerId},${country},${category}`);
        if (cancelled) rows.push(`C${invoice},${stock},${category.toUpperCase()} ITEM ${stock},-${quantity},${at},${price},${customerId},${country},${category}`);
      }
      if (options.anomalies && random() < 0.01) rows.push(`${invoice},POST,POSTAGE,1,${at},0,${customerId},${country},${persona.categories[0]}`);
      if (options.anomalies && !cancelled && random() < 0.03) {
        // A partial refund a day later, as its own "C" invoice (real exports do not reuse the order's number).
        const [, stock, description, quantity, , price, , , category] = rows[0].split(',');
        cancellation += 1;
        rows.push(`C${cancellation},${stock},${description},-${quantity},${usDate(t - (t % 60_000) + 86_400_000)},${price},${customerId},${country},${category}`);
      }
      lines += rows.length;
      await write(`${rows.join('\n')}\n`);
      if (!first && random() < p) break; // dropped out after this purchase
      t += exponential(random, lambda) * 7 * 86_400_000;
    }
  }
  const anomalies: GeneratedAnomalies = { zeroValueOnly: [], bigCancelled: [] };
  if (options.anomalies) {
    for (let i = 0; i < 3; i += 1) {
      const customerId = String(90001 + i);
      anomalies.zeroValueOnly.push(customerId);
      for (const days of [300, 100]) {
        invoice += 1;
        const at = usDate(options.end - days * 86_400_000 - i * 3_600_000);
        await write(`${invoice},SAMPLE,FREE SAMPLE,1,${at},0,${customerId},United Kingdom,party\n${invoice},POST,POSTAGE,1,${at},0,${customerId},United Kingdom,party\n`);
        lines += 2;
      }
    }
    for (let i = 0; i < 3; i += 1) {
      const customerId = String(91001 + i);
      anomalies.bigCancelled.push(customerId);
      // As in the UCI export: 80,995 × £2.08 ordered, and cancelled twelve minutes later.
      const placed = options.end - (200 + 30 * i) * 86_400_000;
      invoice += 1;
      cancellation += 1;
      await write(`${invoice},23843,PAPER CRAFT LITTLE BIRDIE,80995,${usDate(placed)},2.08,${customerId},United Kingdom,crafts\n`);
      await write(`C${cancellation},23843,PAPER CRAFT LITTLE BIRDIE,-80995,${usDate(placed + 12 * 60_000)},2.08,${customerId},United Kingdom,crafts\n`);
      invoice += 1;
      await write(`${invoice},22423,REGENCY CAKESTAND,1,${usDate(placed - 90 * 86_400_000)},2.90,${customerId},United Kingdom,home\n`);
      lines += 3;
      orders += 2;
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return { lines, orders, anomalies };
}

const USAGE = `Usage: node -r ./tools/scripts/register-paths.js dist/tools/analyze/src/generate-orders.js --customers <n> --out <file.csv> [--seed <n>] [--days <n>]`;

if (require.main === module) {
  runCli(USAGE, async () => {
    const args = parseCommandLine(process.argv.slice(2), { customers: 'string', out: 'string', seed: 'string', days: 'string' }).values;
    const customers = Number(args.get('customers'));
    const out = args.get('out');
    if (!(Number.isInteger(customers) && customers > 0)) throw new UsageError('--customers must be a whole number > 0');
    if (!out) throw new UsageError('--out is required');
    const { lines, orders } = await generateOrders({ customers, out, seed: Number(args.get('seed') ?? 1), days: Number(args.get('days') ?? 730), end: Date.UTC(2026, 9, 31, 18) });
    process.stdout.write(`${orders} orders in ${lines} lines written to ${out}\n`);
  });
}
