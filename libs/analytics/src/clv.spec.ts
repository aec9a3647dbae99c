import { bgnbdConditionalExpectedPurchases } from './bgnbd';
import { customerLifetimeValue } from './clv';
import { gammaGammaExpectedSpend } from './gamma-gamma';

const BG = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const GG = { p: 6.25, q: 3.74, gamma: 15.44 };
const customer = { x: 2, tx: 30.43, T: 38.86, zbar: 22.35 };
const weeksPerMonth = 52 / 12;

describe('customer lifetime value', () => {
  it('without discounting is expected purchases in the horizon × expected spend × margin', () => {
    const clv = customerLifetimeValue(BG, GG, customer, { months: 12, monthlyDiscountRate: 0, margin: 0.3, unitsPerMonth: weeksPerMonth });
    const direct = bgnbdConditionalExpectedPurchases(BG, 52, customer.x, customer.tx, customer.T) * gammaGammaExpectedSpend(GG, customer.x, customer.zbar) * 0.3;
    expect(clv).toBeCloseTo(direct, 10);
  });

  it('discounts each month by its own factor', () => {
    const options = { months: 24, monthlyDiscountRate: 0.01, margin: 1, unitsPerMonth: weeksPerMonth };
    // Independently: the month's increment of expected purchases, discounted, summed.
    const spend = gammaGammaExpectedSpend(GG, customer.x, customer.zbar);
    let expected = 0;
    for (let m = 1; m <= 24; m += 1) {
      const increment =
        bgnbdConditionalExpectedPurchases(BG, m * weeksPerMonth, customer.x, customer.tx, customer.T) -
        bgnbdConditionalExpectedPurchases(BG, (m - 1) * weeksPerMonth, customer.x, customer.tx, customer.T);
      expected += (increment * spend) / 1.01 ** m;
    }
    const clv = customerLifetimeValue(BG, GG, customer, options);
    expect(clv).toBeCloseTo(expected, 10);
    expect(clv).toBeLessThan(customerLifetimeValue(BG, GG, customer, { ...options, monthlyDiscountRate: 0 }));
  });

  it('is worth more for a frequent, recent buyer than for a lapsed one', () => {
    const options = { months: 12, monthlyDiscountRate: 0.01, margin: 1, unitsPerMonth: weeksPerMonth };
    const recent = customerLifetimeValue(BG, GG, { x: 8, tx: 38, T: 39, zbar: 30 }, options);
    const lapsed = customerLifetimeValue(BG, GG, { x: 8, tx: 5, T: 39, zbar: 30 }, options);
    expect(recent).toBeGreaterThan(5 * lapsed);
  });
});
