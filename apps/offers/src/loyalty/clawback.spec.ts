import { clawbackFor, type RefundedLot } from './clawback';

const lot = (overrides: Partial<RefundedLot> = {}): RefundedLot => ({ earned: 300, points: 300, remaining: 300, released: false, orderAmount: 150, refundedAmount: 0, ...overrides });

describe('clawbackFor', () => {
  it('takes the whole order back from pending points, or the refunded share of it', () => {
    expect(clawbackFor(lot(), null)).toEqual({ points: 300, fromPending: 300, fromLot: 0, fromBalance: 0, refundedAmount: 150 });
    // 50 of 150 refunded: a third of 300.
    expect(clawbackFor(lot(), 50)).toEqual({ points: 100, fromPending: 100, fromLot: 0, fromBalance: 0, refundedAmount: 50 });
  });

  it('accumulates partial refunds: two halves take back what one whole refund would, never more', () => {
    const first = clawbackFor(lot({ earned: 301, points: 301, remaining: 301 }), 75);
    expect(first.points).toBe(150);
    const second = clawbackFor(lot({ earned: 301, points: 151, remaining: 151, refundedAmount: 75 }), 75);
    expect(second.points).toBe(151);
    expect(clawbackFor(lot({ earned: 301, points: 0, remaining: 0, refundedAmount: 150 }), 75).points).toBe(0);
    expect(clawbackFor(lot(), 1000).refundedAmount).toBe(150);
  });

  it("takes released points from the order's unspent points first, and asks the balance for the spent rest", () => {
    expect(clawbackFor(lot({ released: true, remaining: 120 }), null)).toEqual({ points: 300, fromPending: 0, fromLot: 120, fromBalance: 180, refundedAmount: 150 });
    expect(clawbackFor(lot({ released: true, remaining: 300 }), 75)).toMatchObject({ points: 150, fromLot: 150, fromBalance: 0 });
  });

  it('takes everything back for an order without an amount', () => {
    expect(clawbackFor(lot({ orderAmount: null }), 20).points).toBe(300);
  });
});
