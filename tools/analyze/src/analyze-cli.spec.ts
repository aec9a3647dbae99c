import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAnalyze } from './analyze-cli';
import { UsageError } from './cli-support';
import { generateOrders } from './generate-orders';
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
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
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
    await expect(runAnalyze(['--orders', file, '--out', join(dir, 'x')], () => undefined, true)).rejects.toThrow(/no usable orders .*line 2: date "\d+\/\d+\/\d{4} \d+:\d\d" does not match --date-format iso/);
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
    expect(text).toContain('1 returns or cancellations (21.00)');
    expect(text).toContain('skipped 2 rows: 1 without customer, 1 with an unreadable date');
    expect(analysis.customers.find((c) => c.customerId === 'c1')?.revenue).toBe(21); // two orders of 21, one returned
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
    expect(resolveColumns(['InvoiceNo', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID'], {})).toMatchObject({ customer: 'CustomerID', order: 'InvoiceNo', date: 'InvoiceDate', quantity: 'Quantity', price: 'UnitPrice' });
    expect(() => resolveColumns(['customer_id', 'date', 'quantity'], {})).toThrow(/no amount column, nor quantity and unit price columns/);
  });
});
