import { bgnbdConditionalExpectedPurchases, bgnbdDropout, bgnbdProbabilityAlive, customerLifetimeValue, type BgNbdParams, type GammaGammaParams } from '@segmenta/analytics';
import type { FeatureAccumulator } from './customer-features';

/** The fitted customer-base models in force, as stored in profiles.customer_models. */
export interface CustomerModels {
  bgnbd: BgNbdParams;
  /** Null when the spend model could not be fitted (too few repeat buyers, or q ≤ 1). */
  gammaGamma: GammaGammaParams | null;
  fittedAt: string;
}

/** CLV economics: 12 months ahead, 1 % a month, revenue (margin 1) unless configured. */
export interface ClvSettings {
  months: number;
  margin: number;
  monthlyDiscountRate: number;
}

const WEEK_MS = 7 * 86_400_000;

const DAY_MS = 86_400_000;

/**
 * The repeat-buying summary the models read, from what profiles accumulates: x = repeat orders,
 * t_x and T in weeks from the first order; zbar = the customer's average order value (the first
 * order is not kept apart, so it is included: a small bias towards first-order values). As in the
 * BTYD literature, orders on the same day count once; profiles keeps counts, not days, so x is
 * bounded by the whole days between the first and the last order (a burst of orders within a day
 * would otherwise make the likelihood unbounded).
 */
export function repeatBuyingSummary(acc: FeatureAccumulator, now: Date): { x: number; tx: number; T: number; zbar: number } | null {
  if (acc.orders <= 0 || !acc.firstOrderAt || !acc.lastOrderAt) return null;
  const first = acc.firstOrderAt.getTime();
  return {
    x: Math.min(acc.orders - 1, Math.floor((acc.lastOrderAt.getTime() - first) / DAY_MS)),
    tx: Math.max(0, (acc.lastOrderAt.getTime() - first) / WEEK_MS),
    T: Math.max(0, (now.getTime() - first) / WEEK_MS),
    zbar: acc.orders > 1 ? acc.revenue / acc.orders : 0,
  };
}

/**
 * P(alive), expected orders in 90 days and CLV (minor units) of one customer under the models.
 * P(alive) is null when the fit cannot identify dropout (it would be ~1 for everyone).
 */
export function modelFeatures(acc: FeatureAccumulator, now: Date, models: CustomerModels, clv: ClvSettings): { pAlive: number | null; expectedOrders90d: number; clv: number } | null {
  const s = repeatBuyingSummary(acc, now);
  if (!s) return null;
  const T = Math.max(s.T, s.tx);
  const pAlive = bgnbdDropout(models.bgnbd).identified ? bgnbdProbabilityAlive(models.bgnbd, s.x, s.tx, T) : null;
  const expectedOrders90d = bgnbdConditionalExpectedPurchases(models.bgnbd, 90 / 7, s.x, s.tx, T);
  const value = models.gammaGamma
    ? customerLifetimeValue(models.bgnbd, models.gammaGamma, { ...s, T }, { months: clv.months, margin: clv.margin, monthlyDiscountRate: clv.monthlyDiscountRate, unitsPerMonth: 52 / 12 })
    : bgnbdConditionalExpectedPurchases(models.bgnbd, (clv.months * 52) / 12, s.x, s.tx, T) * (acc.revenue / acc.orders) * clv.margin;
  return { pAlive, expectedOrders90d, clv: Math.round(value) };
}
