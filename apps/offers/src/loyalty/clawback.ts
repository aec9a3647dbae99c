/** A lot as a refund of its order finds it. */
export interface RefundedLot {
  /** Points the order earned, before any clawback. */
  earned: number;
  /** Points the lot still holds (earned less what refunds clawed back). */
  points: number;
  /** Of those, not yet spent or expired. */
  remaining: number;
  released: boolean;
  orderAmount: number | null;
  refundedAmount: number;
}

/** How a refund claws back: from the order's own points first, then, for points already spent, from the balance. */
export interface Clawback {
  /** The points the refund takes back in all: the order's points × the refunded share, less what earlier refunds took. */
  points: number;
  /** From the lot while pending (pending balance). */
  fromPending: number;
  /** From the lot's unspent released points (available balance). */
  fromLot: number;
  /** Wanted from the rest of the available balance, for points of the order already spent. */
  fromBalance: number;
  refundedAmount: number;
}

/**
 * The clawback of a refund of `amount` (whole units; null: the whole order). The refunded share
 * accumulates over partial refunds, and the points clawed back in all are floor(earned × share),
 * so two half refunds take back what one whole refund would. Points of the order already spent are
 * taken from the rest of the available balance, as far as it goes (the caller records what it could not).
 */
export function clawbackFor(lot: RefundedLot, amount: number | null): Clawback {
  const total = lot.orderAmount ?? 0;
  const refundedAmount = amount === null || total <= 0 ? Math.max(total, lot.refundedAmount) : Math.min(total, lot.refundedAmount + Math.max(0, amount));
  const share = total <= 0 ? 1 : refundedAmount / total;
  const clawedBefore = lot.earned - lot.points;
  const points = Math.max(0, Math.min(lot.points, Math.floor(lot.earned * share + 1e-9) - clawedBefore));
  if (!lot.released) return { points, fromPending: points, fromLot: 0, fromBalance: 0, refundedAmount };
  const fromLot = Math.min(points, lot.remaining);
  return { points, fromPending: 0, fromLot, fromBalance: points - fromLot, refundedAmount };
}
