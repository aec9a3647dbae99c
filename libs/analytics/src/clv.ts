import { bgnbdConditionalExpectedPurchases, type BgNbdParams } from './bgnbd';
import { gammaGammaExpectedSpend, type GammaGammaParams } from './gamma-gamma';

export interface ClvOptions {
  /** How far ahead, in months. */
  months: number;
  /** Discount rate per month (0.01 ≈ 12.7 % a year). */
  monthlyDiscountRate: number;
  /** Share of revenue that is profit. */
  margin: number;
  /** Model time units per month: 52/12 when the summary is in weeks. */
  unitsPerMonth: number;
}

/**
 * Customer lifetime value: expected purchases month by month (BG/NBD, conditional on the
 * customer's history) × expected value per purchase (Gamma-Gamma) × margin, each month discounted.
 */
export function customerLifetimeValue(bg: BgNbdParams, gg: GammaGammaParams, customer: { x: number; tx: number; T: number; zbar: number }, options: ClvOptions): number {
  const spend = gammaGammaExpectedSpend(gg, customer.x, customer.zbar) * options.margin;
  let value = 0;
  let before = 0;
  for (let month = 1; month <= options.months; month += 1) {
    const cumulative = bgnbdConditionalExpectedPurchases(bg, month * options.unitsPerMonth, customer.x, customer.tx, customer.T);
    value += ((cumulative - before) * spend) / Math.pow(1 + options.monthlyDiscountRate, month);
    before = cumulative;
  }
  return value;
}
