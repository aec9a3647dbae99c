import {
  bgnbdConditionalExpectedPurchases,
  bgnbdProbabilityAlive,
  customerLifetimeValue,
  CUSTOMER_CLUSTER_FEATURES,
  discoverClusters,
  fitBgNbd,
  fitGammaGamma,
  lifecycleStage,
  matrix,
  quintileCuts,
  rfmGridSegment,
  scoreHigherIsBetter,
  scoreLowerIsBetter,
  summarizePurchases,
  type BgNbdFit,
  type GammaGammaFit,
  type KChoice,
  type LifecycleStage,
  type Persona,
} from '@segmenta/analytics';
import type { Order } from './orders-reader';

const DAY_MS = 86_400_000;

export interface CustomerRow {
  customerId: string;
  orders: number;
  returns: number;
  /** Net of returns. */
  revenue: number;
  aov: number;
  firstOrderAt: number;
  lastOrderAt: number;
  recencyDays: number;
  tenureDays: number;
  topCategory: string | null;
  pAlive: number;
  churnRisk: number;
  expectedOrders90d: number;
  clv: number;
  rfm: { r: number; f: number; m: number; segment: string; segmentName: string };
  lifecycle: LifecycleStage;
  cluster: number;
}

export interface AnalysisOptions {
  /** CLV horizon and economics. */
  clvMonths: number;
  margin: number;
  monthlyDiscountRate: number;
  kMin: number;
  kMax: number;
  seed: number;
  onStep?: (step: string, share?: number) => void;
}

export interface Analysis {
  asOf: number;
  customers: CustomerRow[];
  bgnbd: BgNbdFit;
  gammaGamma: GammaGammaFit | null;
  kChoice: KChoice;
  personas: Persona[];
}

/**
 * The whole analysis of an order history as of its last order: per customer the purchase summary,
 * BG/NBD P(alive) and expected orders, Gamma-Gamma spend and CLV, RFM scores and grid cell,
 * lifecycle stage, and discovered clusters with persona cards.
 */
export function analyzeOrders(orders: Order[], options: AnalysisOptions): Analysis {
  const step = options.onStep ?? (() => undefined);
  const asOf = orders.reduce((m, o) => Math.max(m, o.at), -Infinity);
  step('summarising customers');
  const byCustomer = new Map<string, { orders: number; returns: number; revenue: number; gross: number; first: number; last: number; categories: Map<string, number> }>();
  for (const o of orders) {
    let c = byCustomer.get(o.customerId);
    if (!c) byCustomer.set(o.customerId, (c = { orders: 0, returns: 0, revenue: 0, gross: 0, first: Infinity, last: -Infinity, categories: new Map() }));
    c.revenue += o.amount;
    if (o.amount < 0) {
      c.returns += 1;
      continue;
    }
    c.orders += 1;
    c.gross += o.amount;
    c.first = Math.min(c.first, o.at);
    c.last = Math.max(c.last, o.at);
    for (const [category, value] of o.categories ?? []) c.categories.set(category, (c.categories.get(category) ?? 0) + value);
  }
  // Customers with only returns in the file bought before it: nothing to model.
  const ids = [...byCustomer.keys()].filter((id) => (byCustomer.get(id)?.orders ?? 0) > 0);
  if (ids.length < 10) throw new Error(`only ${ids.length} customers with orders: too few to analyse`);

  step('fitting BG/NBD and Gamma-Gamma');
  const summaries = summarizePurchases(
    orders.filter((o) => o.amount > 0).map((o) => ({ customerId: o.customerId, at: o.at, amount: o.amount })),
    { calibrationEnd: asOf, unitDays: 7 },
  );
  const summaryById = new Map(summaries.map((s) => [s.customerId, s]));
  const columns = { x: ids.map((id) => summaryById.get(id)?.x ?? 0), tx: ids.map((id) => summaryById.get(id)?.tx ?? 0), T: ids.map((id) => summaryById.get(id)?.T ?? 0), zbar: ids.map((id) => summaryById.get(id)?.zbar ?? 0) };
  const bgnbd = fitBgNbd(columns);
  let gammaGamma: GammaGammaFit | null = null;
  try {
    const fit = fitGammaGamma(columns);
    gammaGamma = fit.params.q > 1 ? fit : null; // q ≤ 1: the mean spend is not defined, each customer's own AOV is used
  } catch {
    gammaGamma = null;
  }

  step('scoring customers');
  const rows: CustomerRow[] = ids.map((id, i) => {
    const c = byCustomer.get(id)!;
    const x = columns.x[i];
    const tx = columns.tx[i];
    const T = columns.T[i];
    const aov = c.gross / c.orders;
    const pAlive = bgnbdProbabilityAlive(bgnbd.params, x, tx, T);
    const expectedOrders90d = bgnbdConditionalExpectedPurchases(bgnbd.params, 90 / 7, x, tx, T);
    const clv = gammaGamma
      ? customerLifetimeValue(bgnbd.params, gammaGamma.params, { x, tx, T, zbar: columns.zbar[i] }, { months: options.clvMonths, margin: options.margin, monthlyDiscountRate: options.monthlyDiscountRate, unitsPerMonth: 52 / 12 })
      : bgnbdConditionalExpectedPurchases(bgnbd.params, (options.clvMonths * 52) / 12, x, tx, T) * aov * options.margin;
    const top = [...c.categories.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
    return {
      customerId: id,
      orders: c.orders,
      returns: c.returns,
      revenue: Math.round(c.revenue * 100) / 100,
      aov,
      firstOrderAt: c.first,
      lastOrderAt: c.last,
      recencyDays: (asOf - c.last) / DAY_MS,
      tenureDays: (asOf - c.first) / DAY_MS,
      topCategory: top,
      pAlive,
      churnRisk: 1 - pAlive,
      expectedOrders90d,
      clv,
      rfm: { r: 0, f: 0, m: 0, segment: '', segmentName: '' },
      lifecycle: lifecycleStage({ orders: c.orders, firstOrderAt: new Date(c.first), lastOrderAt: new Date(c.last), lastSeen: new Date(c.last), pAlive }, new Date(asOf)),
      cluster: -1,
    };
  });

  const rCuts = quintileCuts(rows.map((r) => r.recencyDays));
  const fCuts = quintileCuts(rows.map((r) => r.orders));
  const mCuts = quintileCuts(rows.map((r) => r.revenue));
  for (const r of rows) {
    const rs = rCuts ? scoreLowerIsBetter(r.recencyDays, rCuts) : 3;
    const fs = fCuts ? scoreHigherIsBetter(r.orders, fCuts) : 3;
    const ms = mCuts ? scoreHigherIsBetter(r.revenue, mCuts) : 3;
    const cell = rfmGridSegment(rs, fs);
    r.rfm = { r: rs, f: fs, m: ms, segment: cell.key, segmentName: cell.name };
  }

  // In the order of CUSTOMER_CLUSTER_FEATURES.
  const raw = matrix(rows.length, CUSTOMER_CLUSTER_FEATURES.length);
  rows.forEach((r, i) => raw.data.set([r.revenue, r.orders, r.recencyDays, r.aov, r.tenureDays], i * CUSTOMER_CLUSTER_FEATURES.length));
  step(`choosing the number of clusters (${options.kMin}–${options.kMax}) by silhouette`);
  const { choice: kChoice, fit, personas } = discoverClusters({
    features: CUSTOMER_CLUSTER_FEATURES,
    values: raw,
    revenue: rows.map((r) => Math.max(0, r.revenue)),
    topCategory: rows.map((r) => r.topCategory),
    lifecycleStage: rows.map((r) => r.lifecycle),
    kMin: options.kMin,
    kMax: options.kMax,
    seed: options.seed,
    onProgress: (k, share) => step(`choosing the number of clusters: k = ${k}`, share),
  });
  rows.forEach((r, i) => (r.cluster = fit.labels[i]));
  return { asOf, customers: rows, bgnbd, gammaGamma, kChoice, personas };
}
