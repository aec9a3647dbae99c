import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { UsageError } from '@segmenta/cli';
import type { OrderDocument } from '@segmenta/analytics';

/** Which columns hold what; unset ones are looked up among common names. */
export interface OrderColumns {
  customer?: string;
  order?: string;
  date?: string;
  amount?: string;
  quantity?: string;
  price?: string;
  category?: string;
  /** Product id (stock code, SKU): matches a cancellation's lines to the order they cancel. */
  product?: string;
  /** Tells look-alike segments apart. */
  country?: string;
}

export interface ReadSummary {
  rows: number;
  /** Documents (order ids) whose lines sum above zero. */
  orders: number;
  /** Documents worth exactly 0. */
  zeroValue: number;
  /** Documents whose lines sum to less than zero: returns and cancellations. */
  returns: number;
  returnedValue: number;
  skipped: { noCustomer: number; badDate: number; badAmount: number };
  /** The first few skipped rows, with their line numbers. */
  examples: string[];
  first: number;
  last: number;
  columns: Required<Pick<OrderColumns, 'customer' | 'order' | 'date'>> & OrderColumns;
}

const GUESSES: Record<keyof OrderColumns, string[]> = {
  customer: ['customer_id', 'customerid', 'customer', 'client_id', 'user_id', 'masterid'],
  order: ['order_id', 'orderid', 'invoiceno', 'invoice', 'invoice_no', 'order', 'transaction_id'],
  date: ['invoicedate', 'order_date', 'date', 'timestamp', 'created_at', 'ordered_at'],
  amount: ['amount', 'total', 'revenue', 'sales', 'order_total', 'value'],
  quantity: ['quantity', 'qty'],
  price: ['unitprice', 'unit_price', 'price'],
  category: ['category', 'product_category'],
  product: ['stockcode', 'stock_code', 'product_id', 'productid', 'sku', 'item_id'],
  country: ['country', 'country_code', 'shipping_country'],
};

const normalise = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** The columns to use: given ones must exist; missing ones are guessed; amount or quantity × price is required. */
export function resolveColumns(header: string[], given: OrderColumns): ReadSummary['columns'] {
  const byName = new Map(header.map((h) => [normalise(h), h]));
  const pick = (key: keyof OrderColumns, required: boolean) => {
    const wanted = given[key];
    if (wanted !== undefined) {
      if (!header.includes(wanted)) throw new UsageError(`--${key}-column ${wanted}: no such column (columns: ${header.join(', ')})`);
      return wanted;
    }
    const guess = GUESSES[key].map((g) => byName.get(g)).find((h) => h !== undefined);
    if (!guess && required) throw new UsageError(`no ${key} column found among ${header.join(', ')}: name it with --${key}-column`);
    return guess;
  };
  const customer = pick('customer', true) as string;
  const order = pick('order', false) ?? pick('date', true);
  const date = pick('date', true) as string;
  const amount = pick('amount', false);
  const quantity = amount ? undefined : pick('quantity', false);
  const price = amount ? undefined : pick('price', false);
  if (!amount && !(quantity && price))
    throw new UsageError(`no amount column, nor quantity and unit price columns, among ${header.join(', ')}: name them with --amount-column or --quantity-column and --price-column`);
  return { customer, order: order as string, date, amount, quantity, price, category: pick('category', false), product: pick('product', false), country: pick('country', false) };
}

/**
 * A date parser for a format such as `YYYY-MM-DD`, `M/D/YYYY H:mm`, `DD.MM.YYYY` or `YYYYMMDD`
 * (times optional, read as UTC), or `iso` for ISO 8601.
 */
export function dateParser(format: string): (text: string) => number {
  if (format === 'iso') {
    return (text) => {
      const t = text.trim();
      // Date-only ISO strings are UTC already; date-times without a zone are read as UTC too.
      return Date.parse(/T|\s\d/.test(t) && !/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? `${t.replace(' ', 'T')}Z` : t);
    };
  }
  const tokens: string[] = [];
  // Without separators (YYYYMMDD) fields have fixed widths; with them, 1–2 digits.
  const fixed = !/[^YMDHms]/.test(format);
  let pattern = '';
  for (let i = 0; i < format.length;) {
    const token = /^(YYYY|MM|M|DD|D|HH|H|mm|ss)/.exec(format.slice(i))?.[0];
    if (!token) {
      pattern += format[i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i += 1;
      continue;
    }
    tokens.push(token[0]);
    pattern += token === 'YYYY' ? '(\\d{4})' : fixed ? '(\\d{2})' : '(\\d{1,2})';
    i += token.length;
  }
  if (!tokens.includes('Y') || !tokens.includes('M') || !tokens.includes('D')) throw new UsageError(`--date-format ${format} needs YYYY, M(M) and D(D) (and optionally H(H), mm, ss)`);
  const regex = new RegExp(`^${pattern}`);
  return (text) => {
    const match = regex.exec(text.trim());
    if (!match) return NaN;
    const parts: Record<string, number> = { Y: 0, M: 1, D: 1, H: 0, m: 0, s: 0 };
    tokens.forEach((t, i) => (parts[t] = Number(match[i + 1])));
    if (parts.M < 1 || parts.M > 12 || parts.D < 1 || parts.D > 31) return NaN;
    return Date.UTC(parts.Y, parts.M - 1, parts.D, parts.H, parts.m, parts.s);
  };
}

const parseAmount = (text: string | undefined) => (text === undefined || text.trim() === '' ? NaN : Number(text.trim().replace(/,(?=\d{3}\b)/g, '')));

/**
 * Streams an order CSV: rows are orders or order lines (one document per customer and order id,
 * lines summed per product and category); rows without a customer, with an unreadable date or
 * amount are skipped and counted. `onProgress` gets the share of the file read.
 */
export async function readOrders(
  file: string,
  options: { columns: OrderColumns; dateFormat: string; onProgress?: (share: number, rows: number) => void },
): Promise<{ documents: OrderDocument[]; summary: ReadSummary }> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const stream = createReadStream(file);
  let bytes = 0;
  stream.on('data', (chunk) => (bytes += chunk.length));
  const parser = stream.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: false }));
  const parseDate = dateParser(options.dateFormat);
  const byOrder = new Map<string, OrderDocument>();
  let header: string[] | undefined;
  let columns: ReadSummary['columns'] | undefined;
  let index: Record<string, number> = {};
  const summary: ReadSummary = {
    rows: 0,
    orders: 0,
    zeroValue: 0,
    returns: 0,
    returnedValue: 0,
    skipped: { noCustomer: 0, badDate: 0, badAmount: 0 },
    examples: [],
    first: Infinity,
    last: -Infinity,
    columns: { customer: '', order: '', date: '' },
  };
  const skip = (reason: keyof ReadSummary['skipped'], line: number, detail: string) => {
    summary.skipped[reason] += 1;
    if (summary.examples.length < 10) summary.examples.push(`line ${line}: ${detail}`);
  };
  let line = 1;
  for await (const record of parser as AsyncIterable<string[]>) {
    if (!header) {
      header = record.map((h) => h.trim());
      columns = resolveColumns(header, options.columns);
      index = Object.fromEntries(
        Object.entries(columns)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, (header as string[]).indexOf(v as string)]),
      );
      continue;
    }
    line += 1;
    summary.rows += 1;
    if (summary.rows % 20_000 === 0) options.onProgress?.(bytes / (size || 1), summary.rows);
    const customerId = (record[index.customer] ?? '').trim();
    if (!customerId) {
      skip('noCustomer', line, 'no customer id');
      continue;
    }
    const rawDate = record[index.date] ?? '';
    const at = parseDate(rawDate);
    if (!Number.isFinite(at)) {
      skip('badDate', line, `date "${rawDate}" does not match --date-format ${options.dateFormat}`);
      continue;
    }
    const amount = index.amount !== undefined ? parseAmount(record[index.amount]) : parseAmount(record[index.quantity]) * parseAmount(record[index.price]);
    if (!Number.isFinite(amount)) {
      skip('badAmount', line, 'amount is not a number');
      continue;
    }
    const orderId = (record[index.order] ?? '').trim();
    const orderKey = `${customerId}\u0000${orderId}`;
    let order = byOrder.get(orderKey);
    if (!order) {
      const country = index.country !== undefined ? (record[index.country] ?? '').trim() || null : null;
      order = { customerId, orderId: orderId || null, at, lines: [], country };
      byOrder.set(orderKey, order);
    }
    if (at < order.at) order.at = at;
    const category = index.category !== undefined ? (record[index.category] ?? '').trim() || null : null;
    const product = index.product !== undefined ? (record[index.product] ?? '').trim() || null : null;
    // An order has a handful of lines: a scan is cheaper than a map per order.
    const orderLine = order.lines.find((l) => l.product === product && l.category === category);
    if (orderLine) orderLine.amount += amount;
    else order.lines.push({ product, category, amount });
  }
  if (!columns) throw new UsageError(`${file} has no header row`);
  options.onProgress?.(1, summary.rows);
  const documents: OrderDocument[] = [];
  for (const doc of byOrder.values()) {
    // Cents, as money is kept: float sums of order lines otherwise leave 1e-13 residues.
    for (const l of doc.lines) l.amount = Math.round(l.amount * 100) / 100;
    const total = Math.round(doc.lines.reduce((s, l) => s + l.amount, 0) * 100) / 100;
    if (total < 0) {
      summary.returns += 1;
      summary.returnedValue += -total;
    } else if (total === 0) summary.zeroValue += 1;
    else summary.orders += 1;
    summary.first = Math.min(summary.first, doc.at);
    summary.last = Math.max(summary.last, doc.at);
    documents.push(doc);
  }
  summary.returnedValue = Math.round(summary.returnedValue * 100) / 100;
  summary.columns = columns;
  return { documents, summary };
}
