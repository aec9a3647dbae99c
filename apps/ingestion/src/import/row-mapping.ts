import { createHash } from 'node:crypto';

/** What a customers or orders file row becomes: a Segment call for /v1/batch, or the reasons it cannot. */
export type ImportKind = 'customers' | 'orders';
export interface RowProblem {
  field: string;
  problem: string;
}
export type MappedRow = { ok: true; call: Record<string, unknown> } | { ok: false; problems: RowProblem[] };

type Row = Record<string, unknown>;

const CUSTOMER_ID = ['customer_id', 'customerId', 'user_id', 'userId', 'id'];
const ORDER_ID = ['order_id', 'orderId', 'invoice', 'invoice_no', 'InvoiceNo'];
const TIMESTAMP = ['timestamp', 'order_date', 'date', 'created_at', 'InvoiceDate'];
const AMOUNT = ['revenue', 'amount', 'total'];

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/** The first present column of `names`, with the name it was found under. */
function pick(row: Row, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = text(row[name]);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function number(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/,(?=\d{3}\b)/g, ''));
  return Number.isFinite(n) ? n : undefined;
}

/** The same row always gets the same id, so importing a file twice stores each row once. */
function stableId(prefix: string, row: Row): string {
  return `${prefix}-${createHash('sha256').update(JSON.stringify(row)).digest('hex').slice(0, 24)}`;
}

/** customers: an identify call with every other column as a trait. */
export function mapCustomerRow(row: Row): MappedRow {
  const id = pick(row, CUSTOMER_ID);
  if (!id) return { ok: false, problems: [{ field: CUSTOMER_ID[0], problem: `a customer id is required (one of ${CUSTOMER_ID.join(', ')})` }] };
  const traits: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === id.name) continue;
    const t = typeof value === 'number' || typeof value === 'boolean' ? value : text(value);
    if (t !== undefined) traits[key] = t;
  }
  return { ok: true, call: { type: 'identify', messageId: stableId('import-customer', row), userId: id.value, traits } };
}

/**
 * orders: an `Order Completed` track call (`Order Refunded` for a negative amount, as returns are
 * in order exports), with revenue from an amount column or quantity × unit price.
 */
export function mapOrderRow(row: Row): MappedRow {
  const problems: RowProblem[] = [];
  const customer = pick(row, CUSTOMER_ID);
  if (!customer) problems.push({ field: CUSTOMER_ID[0], problem: `a customer id is required (one of ${CUSTOMER_ID.join(', ')})` });
  const order = pick(row, ORDER_ID);
  if (!order) problems.push({ field: ORDER_ID[0], problem: `an order id is required (one of ${ORDER_ID.join(', ')})` });
  const when = pick(row, TIMESTAMP);
  const time = when ? Date.parse(when.value) : NaN;
  if (!when) problems.push({ field: TIMESTAMP[0], problem: `a timestamp is required (one of ${TIMESTAMP.join(', ')})` });
  else if (Number.isNaN(time)) problems.push({ field: when.name, problem: `"${when.value}" is not a date` });
  const amount = pick(row, AMOUNT);
  const quantity = number(text(row.quantity) ?? text(row.Quantity));
  const unitPrice = number(text(row.unit_price) ?? text(row.price) ?? text(row.UnitPrice));
  let revenue = amount ? number(amount.value) : quantity !== undefined && unitPrice !== undefined ? quantity * unitPrice : undefined;
  if (amount && revenue === undefined) problems.push({ field: amount.name, problem: `"${amount.value}" is not a number` });
  else if (revenue === undefined) problems.push({ field: AMOUNT[0], problem: 'an amount is required (revenue, amount, total, or quantity and unit_price)' });
  if (problems.length > 0 || !customer || !order || revenue === undefined) return { ok: false, problems };
  revenue = Math.round(revenue * 100) / 100;
  const currency = text(row.currency) ?? 'USD';
  const category = text(row.category);
  const properties: Record<string, unknown> = { order_id: order.value, revenue, currency };
  if (category || quantity !== undefined) properties.products = [{ ...(category ? { category } : {}), price: unitPrice ?? revenue, quantity: quantity ?? 1 }];
  return {
    ok: true,
    call: {
      type: 'track',
      event: revenue < 0 ? 'Order Refunded' : 'Order Completed',
      messageId: stableId('import-order', row),
      userId: customer.value,
      timestamp: new Date(time).toISOString(),
      properties,
    },
  };
}

export const ROW_MAPPERS: Record<ImportKind, (row: Row) => MappedRow> = { customers: mapCustomerRow, orders: mapOrderRow };
