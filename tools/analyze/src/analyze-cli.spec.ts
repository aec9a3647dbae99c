import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCommand, runAnalyze } from './analyze-cli';
import { UsageError } from '@segmenta/cli';
import { generateOrders, type GeneratedAnomalies } from './generate-orders';
import { dateParser, resolveColumns } from './orders-reader';

describe('npm run analyze', () => {
  const dir = mkdtempSync(join(tmpdir(), 'analyze-'));
  const file = join(dir, 'orders.csv');

  beforeAll(async () => {
    await generateOrders({ customers: 400, out: file, seed: 7, days: 730, end: Date.UTC(2026, 9, 31, 18) });
  });

  it('analyses an order-line file end to end: report, customer scores and memberships', async () => {
    const printed: string[] = [];
    const { analysis, files } = await runAnalyze(['--orders', file, '--date-format', 'M/D/YYYY H:mm', '--out', join(dir, 'out'), '--k-min', '3', '--k-max', '8'], (t) => printed.push(t), true);
    // Independently of the analysis: net value per customer straight from the lines.
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const net = new Map<string, number>();
    for (const l of lines) net.set(l[6], (net.get(l[6]) ?? 0) + Number(l[3]) * Number(l[5]));
    const cancellations = new Set(lines.filter((l) => l[0].startsWith('C')).map((l) => l[0])).size;

    const customers = readFileSync(files[1], 'utf8').trim().split('\n');
    expect(customers).toHaveLength(401);
    for (const row of customers.slice(1, 50)) {
      const cells = row.split(',');
      expect(Number(cells[3])).toBeCloseTo(net.get(cells[0]) as number, 1);
    }
    expect(printed.join('')).toContain(`and ${cancellations} returns or cancellations`);
    const memberships = readFileSync(files[2], 'utf8').trim().split('\n');
    expect(memberships).toHaveLength(1 + 3 * 400);
    expect(new Set(memberships.slice(1).map((m) => m.split(',')[1]))).toEqual(new Set(['cluster', 'rfm', 'lifecycle']));

    const html = readFileSync(files[0], 'utf8');
    for (const p of analysis.personas) expect(html).toContain(p.name.replace(/'/g, '&#39;'));
    expect(html).toContain('RFM grid');
    expect(html).toMatch(/<svg class="chart"/);
    expect(html).not.toMatch(/<script|https?:\/\//); // self-contained
    expect(analysis.personas.length).toBeGreaterThanOrEqual(3);
    expect(analysis.personas.every((p) => !/cluster \d/i.test(p.name))).toBe(true);
    expect(analysis.personas.every((p) => !/\b(second|third|fourth|fifth|group)\b/i.test(p.name))).toBe(true);
    expect(new Set(analysis.personas.map((p) => p.name)).size).toBe(analysis.personas.length);
    for (const c of analysis.customers) {
      expect(c.pAlive).toBeGreaterThanOrEqual(0);
      expect(c.pAlive).toBeLessThanOrEqual(1);
      expect(c.clv).toBeGreaterThanOrEqual(0);
    }
  });

  it('names the option to fix when a column or the date format does not fit', async () => {
    await expect(runAnalyze(['--orders', file, '--customer-column', 'Client'], () => undefined, true)).rejects.toThrow(UsageError);
    await expect(runAnalyze(['--orders', file, '--customer-column', 'Client'], () => undefined, true)).rejects.toThrow(/--customer-column Client: no such column/);
    // ISO dates expected, US dates given: nothing usable, and the reason with a line number.
    await expect(runAnalyze(['--orders', file, '--out', join(dir, 'x')], () => undefined, true)).rejects.toThrow(
      /no usable orders .*line 2: date "\d+\/\d+\/\d{4} \d+:\d\d" does not match --date-format iso/,
    );
  });

  it('handles amounts, negative orders and blank customers in a plain order file', async () => {
    const plain = join(dir, 'plain.csv');
    const rows = ['order_id,customer_id,order_date,amount'];
    for (let c = 0; c < 60; c += 1) for (let o = 0; o < 1 + (c % 4); o += 1) rows.push(`o${c}-${o},c${c},2026-0${1 + o}-1${c % 10},${(20 + c).toFixed(2)}`);
    rows.push('r1,c1,2026-05-01,-21.00', 'x1,,2026-05-01,10', 'x2,c2,not a date,10');
    writeFileSync(plain, `${rows.join('\n')}\n`);
    const printed: string[] = [];
    const { analysis } = await runAnalyze(['--orders', plain, '--out', join(dir, 'plain-out'), '--k-min', '2', '--k-max', '3'], (t) => printed.push(t), true);
    const text = printed.join('');
    expect(text).toContain('1 returns or cancellations (¤21.00 returned)');
    expect(text).toContain('skipped 2 rows: 1 without customer, 1 with an unreadable date');
    expect(analysis.customers.find((c) => c.customerId === 'c1')?.revenue).toBe(21); // two orders of 21, one returned
  });
});

describe('npm run analyze on a file with the oddities of a real export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'analyze-odd-'));
  const file = join(dir, 'orders.csv');
  let anomalies: GeneratedAnomalies;
  let result: Awaited<ReturnType<typeof runAnalyze>>;
  const printed: string[] = [];

  beforeAll(async () => {
    ({ anomalies } = await generateOrders({ customers: 400, out: file, seed: 11, days: 730, end: Date.UTC(2026, 9, 31, 18), anomalies: true }));
    result = await runAnalyze(
      ['--orders', file, '--date-format', 'M/D/YYYY H:mm', '--out', join(dir, 'out'), '--k-min', '3', '--k-max', '12', '--currency', 'GBP', '--margin', '0.3'],
      (t) => printed.push(t),
      true,
    );
  });

  it('drops an order cancelled minutes later from the model inputs: no purchase day, no spend', () => {
    const { customers } = result.analysis;
    const byClv = customers.filter((c) => c.clv !== null).sort((a, b) => (b.clv as number) - (a.clv as number));
    for (const id of anomalies.bigCancelled) {
      const c = customers.find((x) => x.customerId === id)!;
      // What is left of them: one order of £2.90.
      expect(c).toMatchObject({ orders: 1, revenue: 2.9 });
      expect(c.aov).toBeCloseTo(2.9, 2);
      expect(byClv.indexOf(c)).toBeGreaterThan(byClv.length / 10);
    }
    expect(printed.join('')).toMatch(/orders fully cancelled/);
  });

  it('gives customers with no positive purchase no P(alive), expected orders or CLV, and counts them', () => {
    const { customers } = result.analysis;
    for (const id of anomalies.zeroValueOnly) {
      const c = customers.find((x) => x.customerId === id)!;
      expect(c).toMatchObject({ orders: 0, pAlive: null, churnRisk: null, expectedOrders90d: null, clv: null });
    }
    const csv = readFileSync(result.files[1], 'utf8').trim().split('\n');
    const header = csv[0].split(',');
    const row = csv.find((l) => l.startsWith(`${anomalies.zeroValueOnly[0]},`))!.split(',');
    for (const column of ['p_alive', 'churn_risk', 'expected_orders_90d', 'clv']) expect(row[header.indexOf(column)]).toBe('');
    expect(printed.join('')).toContain('3 customers with no positive purchase');
    expect(readFileSync(result.files[0], 'utf8')).toContain('3 customers with no positive purchase');
  });

  it('takes the smallest number of segments within noise of the best silhouette and shows the curve', async () => {
    const { kChoice } = result.analysis;
    const best = kChoice.scores.find((s) => s.k === kChoice.bestK)!;
    expect(Math.max(...kChoice.scores.map((s) => s.silhouette))).toBe(best.silhouette);
    expect(kChoice.scores.find((s) => s.k === kChoice.k)!.silhouette).toBeGreaterThanOrEqual(best.silhouette - kChoice.noise);
    expect(kChoice.scores.filter((s) => s.k < kChoice.k).every((s) => s.silhouette < best.silhouette - kChoice.noise)).toBe(true);
    expect(kChoice.noise).toBeGreaterThanOrEqual(best.se);
    const html = readFileSync(result.files[0], 'utf8');
    expect(html).toContain('<svg class="chart silhouette"');
    expect((html.match(/<title>k = \d+: silhouette/g) ?? []).length).toBe(kChoice.scores.length);
    expect(printed.join('')).toMatch(/silhouette by k: 3 0\.\d{3}, 4 0\.\d{3}/);
  });

  it('gives every money figure its currency, states the CLV horizon, margin and discounting, and spells out its units', async () => {
    const html = readFileSync(result.files[0], 'utf8');
    const text = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toMatch(/£[\d,]+ net revenue/);
    expect(text).toMatch(/returns and cancellations \(£[\d,]+ returned\)/);
    expect(text).toContain('CLV over the next 12 months: expected gross profit at a 30 % margin, future orders discounted 1 % a month, in GBP');
    expect(text).not.toMatch(/\d sd\b|\(\d[\d,]*\)/); // no bare "sd", no bare numbers in brackets
    expect(text).toMatch(/standard deviations? (above|below) average/);
    for (const card of html.split('<div class="card"').slice(1)) {
      expect(card).toMatch(/median revenue<\/td><td>£/);
      expect(card).toMatch(/median basket<\/td><td>£/);
      expect(card).toMatch(/mean CLV, 12 months<\/td><td>£/);
    }
    // The CLV histogram: customers counted on its axis, bins on a log scale, as wide as its card.
    const clv = html.slice(html.indexOf('<svg class="chart clv"'));
    expect(clv).toMatch(/^<svg class="chart clv" viewBox="[^"]+" width="100%"/);
    expect(clv).toContain('>customers</text>');
    expect(clv).toContain('log scale');
    const out = printed.join('');
    expect(out).toMatch(/\(£[\d,.]+ returned\)/);
    expect(out).toMatch(/expected value of the next 12 months \(CLV\): £[\d,]+/);
  });
});

describe('npm run analyze when the data cannot identify dropout', () => {
  it('says so in the CLI and the report, headlines no P(alive) and takes lifecycle stages from recency', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'analyze-nodropout-'));
    const file = join(dir, 'orders.csv');
    // Short history, nobody leaves: every customer keeps buying until the end of the file.
    await generateOrders({ customers: 300, out: file, seed: 5, days: 365, end: Date.UTC(2026, 9, 31, 18), noDropout: true });
    const printed: string[] = [];
    const { analysis, files } = await runAnalyze(['--orders', file, '--date-format', 'M/D/YYYY H:mm', '--out', join(dir, 'out'), '--k-min', '2', '--k-max', '4'], (t) => printed.push(t), true);
    expect(printed.join('')).toContain('the data cannot identify dropout');
    const html = readFileSync(files[0], 'utf8');
    expect(html).toContain('the data cannot identify dropout');
    expect(html).not.toMatch(/mean P\(alive\)/);
    for (const c of analysis.customers) {
      expect(c.pAlive).toBeNull();
      // Recency rules: 180 days without an order is lapsed, whatever the model says.
      if ((c.recencyDays ?? 0) > 180) expect(c.lifecycle).toBe('lapsed');
    }
  });
});

describe('order file parsing', () => {
  it('parses configured date formats as UTC', () => {
    expect(dateParser('M/D/YYYY H:mm')('12/1/2010 8:26')).toBe(Date.UTC(2010, 11, 1, 8, 26));
    expect(dateParser('YYYYMMDD')('19970101')).toBe(Date.UTC(1997, 0, 1));
    expect(dateParser('DD.MM.YYYY')('31.12.2025')).toBe(Date.UTC(2025, 11, 31));
    expect(dateParser('iso')('2026-03-04 10:00')).toBe(Date.UTC(2026, 2, 4, 10));
    expect(dateParser('DD.MM.YYYY')('12/31/2025')).toBeNaN();
    expect(() => dateParser('HH:mm')).toThrow('--date-format HH:mm needs YYYY, M(M) and D(D)');
  });

  it('guesses common column names and requires an amount or quantity and price', () => {
    expect(resolveColumns(['InvoiceNo', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID'], {})).toMatchObject({
      customer: 'CustomerID',
      order: 'InvoiceNo',
      date: 'InvoiceDate',
      quantity: 'Quantity',
      price: 'UnitPrice',
    });
    expect(() => resolveColumns(['customer_id', 'date', 'quantity'], {})).toThrow(/no amount column, nor quantity and unit price columns/);
  });
});

describe('npm run analyze: the command line', () => {
  const run = async (argv: string[]) => {
    const out = { stdout: '', stderr: '' };
    const code = await analyzeCommand(argv, { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t) });
    return { code, ...out };
  };

  it.each([['--help'], ['-h']])('answers %s with the usage and exit code 0', async (flag) => {
    const { code, stdout, stderr } = await run([flag]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: npm run analyze -- --orders <file.csv>/);
    expect(stdout).toContain('--date-format <format>');
    expect(stderr).toBe('');
  });

  it('refuses an unknown option with one line and exit code 2', async () => {
    const { code, stdout, stderr } = await run(['--orders', 'x.csv', '--colour', 'blue']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("Unknown option '--colour' (--help for usage)\n");
  });

  it('accepts --name=value as well as --name value', async () => {
    const { code, stderr } = await run(['--orders=/nonexistent/orders.csv']);
    expect(code).toBe(2);
    expect(stderr).toContain('cannot read /nonexistent/orders.csv');
  });
});
