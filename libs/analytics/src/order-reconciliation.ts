/**
 * Returns, cancellations and refunds matched to the orders they undo, so that the repeat-buying
 * models see only what was really bought: an order cancelled minutes after it was placed is no
 * purchase day for BG/NBD and no spend for Gamma-Gamma.
 */

/** One line of an order or of a return (negative amount), products summed per document. */
export interface DocumentLine {
  /** Product id (stock code, SKU), when the file has one. */
  product: string | null;
  category: string | null;
  amount: number;
}

/** An order, return or cancellation document as read: all lines of one order id of one customer. */
export interface OrderDocument {
  customerId: string;
  orderId: string | null;
  at: number;
  lines: DocumentLine[];
  /** Where it was placed, when the file says. */
  country?: string | null;
}

export type OrderStatus = 'paid' | 'partly-refunded' | 'cancelled' | 'zero-value';

/** An order after its returns: `amount` is what was kept (gross − refunded). */
export interface ReconciledOrder {
  customerId: string;
  orderId: string | null;
  at: number;
  gross: number;
  refunded: number;
  amount: number;
  status: OrderStatus;
  country: string | null;
  /** Kept value per category. */
  categories: Map<string, number>;
}

export interface ReconciliationCounts {
  /** Documents whose lines sum below zero. */
  returns: number;
  returnedValue: number;
  /** Return value matched to an order by its id (with the "C" prefix of cancellation invoices removed), by product or by amount. */
  matchedById: number;
  matchedByProduct: number;
  matchedByAmount: number;
  /** Return value that matched no order in the file (bought before it): it reduces revenue only. */
  unmatchedValue: number;
  fullyCancelled: number;
  partlyRefunded: number;
  zeroValue: number;
}

export interface Reconciliation {
  /** Every order document (sum ≥ 0) with its status; purchases are those with status paid or partly-refunded. */
  orders: ReconciledOrder[];
  counts: ReconciliationCounts;
}

const CENT = 0.005;
const cents = (v: number) => Math.round(v * 100) / 100;
const sum = (lines: DocumentLine[]) => cents(lines.reduce((s, l) => s + l.amount, 0));

interface Open {
  doc: OrderDocument;
  /** Remaining (not yet refunded) value per line. */
  remaining: number[];
  refunded: number;
}

/** Whether an order still counts as a purchase. */
export const isPurchase = (order: ReconciledOrder) => order.status === 'paid' || order.status === 'partly-refunded';

/**
 * Matches every return document to the order(s) it undoes: by order id where one fits (the same id,
 * or the id without a leading "C"), otherwise line by line by customer, product and amount (the
 * latest earlier order with that product, one with enough of it left first), or, without products,
 * by customer and exact amount. Matched value reduces the order; an order with nothing left is
 * cancelled, one with less left is partly refunded. Orders worth 0 are no purchases.
 */
export function reconcileOrders(documents: Iterable<OrderDocument>): Reconciliation {
  const counts: ReconciliationCounts = { returns: 0, returnedValue: 0, matchedById: 0, matchedByProduct: 0, matchedByAmount: 0, unmatchedValue: 0, fullyCancelled: 0, partlyRefunded: 0, zeroValue: 0 };
  const ordersOf = new Map<string, Open[]>();
  const returns: OrderDocument[] = [];
  const all: Open[] = [];
  for (const doc of documents) {
    const total = sum(doc.lines);
    if (total < 0) {
      returns.push(doc);
      counts.returns += 1;
      counts.returnedValue = cents(counts.returnedValue - total);
      continue;
    }
    const open: Open = { doc, remaining: doc.lines.map((l) => l.amount), refunded: 0 };
    all.push(open);
    if (total <= 0) continue; // worth nothing: nothing to undo either
    let list = ordersOf.get(doc.customerId);
    if (!list) ordersOf.set(doc.customerId, (list = []));
    list.push(open);
  }
  for (const list of ordersOf.values()) list.sort((a, b) => b.doc.at - a.doc.at); // latest first
  returns.sort((a, b) => a.at - b.at);

  const take = (open: Open, line: number, wanted: number) => {
    const got = Math.min(wanted, Math.max(0, open.remaining[line]));
    open.remaining[line] -= got;
    open.refunded += got;
    return got;
  };
  const takeFromOrder = (open: Open, wanted: number) => {
    let left = wanted;
    for (let i = 0; i < open.remaining.length && left > CENT; i += 1) left -= take(open, i, left);
    return wanted - left;
  };

  for (const ret of returns) {
    const candidates = (ordersOf.get(ret.customerId) ?? []).filter((o) => o.doc.at <= ret.at);
    const value = -sum(ret.lines);
    // 1. By order id.
    const id = ret.orderId?.trim();
    const byId = id ? candidates.find((o) => o.doc.orderId !== null && (o.doc.orderId === id || o.doc.orderId === id.replace(/^[cC]/, ''))) : undefined;
    if (byId) {
      const got = takeFromOrder(byId, value);
      counts.matchedById = cents(counts.matchedById + got);
      counts.unmatchedValue = cents(counts.unmatchedValue + value - got);
      continue;
    }
    const withProducts = ret.lines.some((l) => l.product !== null);
    if (withProducts) {
      // 2. Line by line by product: an order with at least that much of it left first, else any with some left.
      for (const line of ret.lines) {
        let wanted = -line.amount;
        if (wanted <= 0) continue;
        const holders = line.product === null ? [] : candidates.flatMap((o) => o.doc.lines.map((l, i) => ({ o, i, l })).filter((x) => x.l.product === line.product && x.o.remaining[x.i] > CENT));
        const enough = holders.find((h) => h.o.remaining[h.i] >= wanted - CENT);
        for (const h of enough ? [enough, ...holders.filter((x) => x !== enough)] : holders) {
          if (wanted <= CENT) break;
          const got = take(h.o, h.i, wanted);
          wanted -= got;
          counts.matchedByProduct = cents(counts.matchedByProduct + got);
        }
        if (wanted > CENT) counts.unmatchedValue = cents(counts.unmatchedValue + wanted);
      }
      continue;
    }
    // 3. By exact amount: the latest earlier order with that much left.
    const same = candidates.find((o) => Math.abs(o.remaining.reduce((s, r) => s + r, 0) - value) < CENT);
    if (same) {
      counts.matchedByAmount = cents(counts.matchedByAmount + takeFromOrder(same, value));
      continue;
    }
    counts.unmatchedValue = cents(counts.unmatchedValue + value);
  }

  const orders: ReconciledOrder[] = all.map((open) => {
    const gross = sum(open.doc.lines);
    const amount = cents(open.remaining.reduce((s, r) => s + r, 0));
    const refunded = cents(open.refunded);
    const status: OrderStatus = gross <= 0 ? 'zero-value' : amount <= CENT ? 'cancelled' : refunded > CENT ? 'partly-refunded' : 'paid';
    if (status === 'zero-value') counts.zeroValue += 1;
    else if (status === 'cancelled') counts.fullyCancelled += 1;
    else if (status === 'partly-refunded') counts.partlyRefunded += 1;
    const categories = new Map<string, number>();
    open.doc.lines.forEach((l, i) => {
      if (l.category && open.remaining[i] > 0) categories.set(l.category, (categories.get(l.category) ?? 0) + open.remaining[i]);
    });
    return {
      customerId: open.doc.customerId,
      orderId: open.doc.orderId,
      at: open.doc.at,
      gross,
      refunded,
      amount: status === 'cancelled' ? 0 : amount,
      status,
      country: open.doc.country ?? null,
      categories,
    };
  });
  return { orders, counts };
}
