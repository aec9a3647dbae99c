import {
  bgnbdConditionalExpectedPurchases,
  bgnbdDropout,
  bgnbdProbabilityAlive,
  customerLifetimeValue,
  CUSTOMER_CLUSTER_FEATURES,
  discoverClusters,
  fitBgNbd,
  fitGammaGamma,
  lifecycleStage,
  matrix,
  quintileCuts,
  reconcileOrders,
  isPurchase,
  rfmGridSegment,
  scoreHigherIsBetter,
  scoreLowerIsBetter,
  summarizePurchases,
  type BgNbdFit,
  type DropoutIdentification,
  type GammaGammaFit,
  type KChoice,
  type LifecycleStage,
  type OrderDocument,
  type Persona,
  type ReconciliationCounts,
} from '@segmenta/analytics';

const DAY_MS = 86_400_000;

/**
 * One customer. Orders are purchases: orders worth more than 0 after their matched returns. A
 * customer without one (only zero-value, cancelled or returned orders) has no order dates, basket,
 * model values, RFM cell or segment: null, '' or -1, never invented ones.
 */
export interface CustomerRow {
  customerId: string;
  orders: number;
  returns: number;
  /** Net of every return and cancellation in the file. */
  revenue: number;
  aov: number | null;
  firstOrderAt: number | null;
  lastOrderAt: number | null;
  recencyDays: number | null;
  tenureDays: number | null;
  topCategory: string | null;
  /** Where most of their orders were placed, when the file says. */
  country: string | null;
  pAlive: number | null;
  churnRisk: number | null;
  expectedOrders90d: number | null;
  clv: number | null;
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
  /** The CLV economics used. */
  clv: { months: number; margin: number; monthlyDiscountRate: number };
  customers: CustomerRow[];
  /** How returns and cancellations were matched to orders, and what was left of them. */
  reconciliation: ReconciliationCounts;
  /** Customers in the file without a purchase worth more than 0: no model values. */
  withoutPurchase: number;
  bgnbd: BgNbdFit;
  /** Whether the BG/NBD fit identifies dropout; when not, P(alive) is null and lifecycle stages rest on recency. */
  dropout: DropoutIdentification;
  gammaGamma: GammaGammaFit | null;
  kChoice: KChoice;
  personas: Persona[];
}

/**
 * The whole analysis of an order history as of its last order: per customer the purchase summary,
 * BG/NBD P(alive) and expected orders, Gamma-Gamma spend and CLV, RFM scores and grid cell,
 * lifecycle stage, and discovered clusters with persona cards.
 */
export function analyzeOrders(documents: OrderDocument[], options: AnalysisOptions): Analysis {
  const step = options.onStep ?? (() => undefined);
  step('matching returns and cancellations to their orders');
  const { orders, counts } = reconcileOrders(documents);
  const purchases = orders.filter(isPurchase);
  const asOf = documents.reduce((m, o) => Math.max(m, o.at), -Infinity);
  step('summarising customers');
  const byCustomer = new Map<
    string,
    { orders: number; returns: number; revenue: number; kept: number; first: number; last: number; categories: Map<string, number>; countries: Map<string, number> }
  >();
  const customer = (id: string) => {
    let c = byCustomer.get(id);
    if (!c) byCustomer.set(id, (c = { orders: 0, returns: 0, revenue: 0, kept: 0, first: Infinity, last: -Infinity, categories: new Map(), countries: new Map() }));
    return c;
  };
  for (const d of documents) {
    const c = customer(d.customerId);
    const total = d.lines.reduce((s, l) => s + l.amount, 0);
    c.revenue += total;
    if (total < 0) c.returns += 1;
  }
  for (const o of purchases) {
    const c = customer(o.customerId);
    c.orders += 1;
    c.kept += o.amount;
    c.first = Math.min(c.first, o.at);
    c.last = Math.max(c.last, o.at);
    for (const [category, value] of o.categories) c.categories.set(category, (c.categories.get(category) ?? 0) + value);
    if (o.country) c.countries.set(o.country, (c.countries.get(o.country) ?? 0) + 1);
  }
  const ids = [...byCustomer.keys()].filter((id) => (byCustomer.get(id)?.orders ?? 0) > 0);
  const without = [...byCustomer.keys()].filter((id) => (byCustomer.get(id)?.orders ?? 0) === 0);
  if (ids.length < 10) throw new Error(`only ${ids.length} customers with orders: too few to analyse`);

  step('fitting BG/NBD and Gamma-Gamma');
  const summaries = summarizePurchases(
    purchases.map((o) => ({ customerId: o.customerId, at: o.at, amount: o.amount })),
    { calibrationEnd: asOf, unitDays: 7 },
  );
  const summaryById = new Map(summaries.map((s) => [s.customerId, s]));
  const columns = {
    x: ids.map((id) => summaryById.get(id)?.x ?? 0),
    tx: ids.map((id) => summaryById.get(id)?.tx ?? 0),
    T: ids.map((id) => summaryById.get(id)?.T ?? 0),
    zbar: ids.map((id) => summaryById.get(id)?.zbar ?? 0),
  };
  const bgnbd = fitBgNbd(columns);
  // At the boundary where nobody drops out P(alive) is ~1 for everyone: not reported, and lifecycle stages follow recency.
  const dropout = bgnbdDropout(bgnbd.params);
  let gammaGamma: GammaGammaFit | null = null;
  try {
    const fit = fitGammaGamma(columns);
    gammaGamma = fit.params.q > 1 ? fit : null; // q ≤ 1: the mean spend is not defined, each customer's own AOV is used
  } catch {
    gammaGamma = null;
  }

  step('scoring customers');
  // Purchasers: every value below is defined for them.
  type Purchaser = CustomerRow & { [K in 'aov' | 'firstOrderAt' | 'lastOrderAt' | 'recencyDays' | 'tenureDays' | 'expectedOrders90d' | 'clv']: number };
  const rows: Purchaser[] = ids.map((id, i) => {
    const c = byCustomer.get(id)!;
    const x = columns.x[i];
    const tx = columns.tx[i];
    const T = columns.T[i];
    const aov = c.kept / c.orders;
    const pAlive = dropout.identified ? bgnbdProbabilityAlive(bgnbd.params, x, tx, T) : null;
    const expectedOrders90d = bgnbdConditionalExpectedPurchases(bgnbd.params, 90 / 7, x, tx, T);
    const clv = gammaGamma
      ? customerLifetimeValue(
          bgnbd.params,
          gammaGamma.params,
          { x, tx, T, zbar: columns.zbar[i] },
          { months: options.clvMonths, margin: options.margin, monthlyDiscountRate: options.monthlyDiscountRate, unitsPerMonth: 52 / 12 },
        )
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
      country: [...c.countries.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null,
      pAlive,
      churnRisk: pAlive === null ? null : 1 - pAlive,
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
  step(`choosing the number of clusters (${options.kMin}–${options.kMax}) by silhouette over resamples`);
  const {
    choice: kChoice,
    fit,
    personas,
  } = discoverClusters({
    features: CUSTOMER_CLUSTER_FEATURES,
    values: raw,
    revenue: rows.map((r) => Math.max(0, r.revenue)),
    topCategory: rows.map((r) => r.topCategory),
    lifecycleStage: rows.map((r) => r.lifecycle),
    country: rows.map((r) => r.country),
    kMin: options.kMin,
    kMax: options.kMax,
    seed: options.seed,
    onProgress: (k, share) => step(`choosing the number of clusters: k = ${k}`, share),
  });
  rows.forEach((r, i) => (r.cluster = fit.labels[i]));
  const all: CustomerRow[] = rows;
  for (const id of without) {
    const c = byCustomer.get(id)!;
    all.push({
      customerId: id,
      orders: 0,
      returns: c.returns,
      revenue: Math.round(c.revenue * 100) / 100,
      aov: null,
      firstOrderAt: null,
      lastOrderAt: null,
      recencyDays: null,
      tenureDays: null,
      topCategory: null,
      country: null,
      pAlive: null,
      churnRisk: null,
      expectedOrders90d: null,
      clv: null,
      rfm: { r: 0, f: 0, m: 0, segment: '', segmentName: '' },
      lifecycle: 'prospect',
      cluster: -1,
    });
  }
  return {
    asOf,
    clv: { months: options.clvMonths, margin: options.margin, monthlyDiscountRate: options.monthlyDiscountRate },
    customers: all,
    reconciliation: counts,
    withoutPurchase: without.length,
    bgnbd,
    dropout,
    gammaGamma,
    kChoice,
    personas,
  };
}
