import { randomUUID } from 'node:crypto';
import { seededRandom } from '@segmenta/analytics';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { expectStatus } from './demo-offers';

/** What the experiment step shows, for the demo's test. */
export interface DemoExperiment {
  exposed: Record<string, number>;
  conversionRates: Record<string, number>;
  lift: { estimate: number; ci: [number, number]; pValue: number } | null;
  chanceToBeatControl: number | null;
  srmPValue: number;
  /** Revenue net of the rewards' cost, 10 % off against free shipping, per shopper. */
  netLift: { estimate: number; ci: [number, number] } | null;
  /** The lift camera-intent's KPIs show for the experiment (segmentation, from experiments.results). */
  segmentLift: { orders: number; netRevenue: number | null } | null;
}

interface SegmentKpis {
  experiments?: Array<{ key: string; metrics: Array<{ metricKey: string; variants: Array<{ variant: string; lift: { estimate: number; ci: [number, number] } | null }> }> }>;
}

interface Results {
  srm: { pValue: number; flagged: boolean; users: Record<string, number> };
  metrics: Array<{
    key: string;
    segments: Array<{
      segment: string | null;
      variants: Array<{ key: string; n: number; mean: number | null }>;
      comparisons: Array<{ variant: string; frequentist: { absolute: { estimate: number; ci: [number, number]; pValue: number } } | null; bayesian: { chanceToBeatControl: number } | null }>;
    }>;
  }>;
  incremental: Array<{
    segment: string | null;
    variant: string;
    rewardCostPerCustomer: { control: number | null; variant: number | null };
    netLift: { estimate: number; ci: [number, number]; pValue: number } | null;
    netTotal: { estimate: number; ci: [number, number] } | null;
  }>;
  warnings: string[];
}

const SHOPPERS = 200;
const ORDER_EUR = 449;

/**
 * A growth team's experiment (issue 21): at checkout, camera-intent customers get free shipping
 * (control) or 10 % off cameras, split 50/50 by GrowthBook's hashing, assigned inside offers with no
 * call per request. 200 shoppers view cameras, the shop's app asks for their checkout offers (each
 * answer an exposure), some order (the demo plants 10 % against 25 %), and the results come from
 * experiments' streaming aggregates.
 */
export async function showExperiment(options: {
  offers: ServiceProcess;
  experiments: ServiceProcess;
  segmentation: ServiceProcess;
  ingestion: ServiceProcess;
  adminKey: string;
  writeKey: string;
  print: (line: string) => void;
}): Promise<DemoExperiment> {
  const { offers, experiments, segmentation, ingestion, adminKey, writeKey, print } = options;
  const onOffers = <T>(expected: number, method: string, path: string, body?: unknown) => expectStatus<T>(offers, adminKey, expected, method, path, body);
  const onExperiments = <T>(expected: number, method: string, path: string, body?: unknown) => expectStatus<T>(experiments, adminKey, expected, method, path, body);
  for (const [key, name, reward] of [
    ['checkout-free-shipping', 'Free shipping on cameras', { type: 'free_shipping' }],
    ['checkout-ten-off', '10 % off cameras at checkout', { type: 'percent_off', percent: 10 }],
  ] as const) {
    await onOffers(201, 'POST', '/v1/offers', {
      key,
      name,
      description: name,
      reward,
      placements: ['checkout'],
      priority: 5,
      startsAt: '2020-01-01T00:00',
      endsAt: null,
      timeZone: 'Europe/Berlin',
      eligibility: { segments: { anyOf: ['camera-intent'] } },
      coupons: { type: 'none' },
    });
    await onOffers(200, 'POST', `/v1/offers/${key}/status`, { status: 'active' });
  }
  await onExperiments(201, 'POST', '/v1/experiments', {
    key: 'checkout-camera-offer',
    name: 'Checkout: 10 % off vs free shipping',
    definition: {
      hypothesis: 'Camera fans order more often with 10 % off than with free shipping',
      targeting: { segments: ['camera-intent'], trafficShare: 1, placement: 'checkout' },
      variants: [
        { key: 'control', name: 'Free shipping', weight: 0.5, offers: ['checkout-free-shipping'] },
        { key: 'ten-off', name: '10 % off', weight: 0.5, offers: ['checkout-ten-off'] },
      ],
      metrics: [
        { key: 'orders', type: 'conversion', event: 'Order Completed', days: 14 },
        { key: 'revenue', type: 'revenue', days: 14 },
        { key: 'net-revenue', type: 'net_revenue', days: 14 },
      ],
    },
  });
  await onExperiments(200, 'POST', '/v1/experiments/checkout-camera-offer/status', { status: 'running' });
  print(`  experiment "checkout-camera-offer" on the checkout placement: camera-intent customers split 50/50, free shipping (control) or 10 % off  (POST ${experiments.url}/v1/experiments)`);

  const suffix = randomUUID().slice(0, 8);
  const shoppers = Array.from({ length: SHOPPERS }, (_, i) => `demo-exp-${suffix}-${i}`);
  const send = async (calls: Array<Record<string, unknown>>) => {
    for (let i = 0; i < calls.length; i += 100) {
      const response = await fetch(`${ingestion.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
        body: JSON.stringify({ batch: calls.slice(i, i + 100) }),
      });
      if (response.status !== 200) throw new Error(`POST /v1/batch answered ${response.status}: ${await response.text()}`);
    }
  };
  const now = Date.now();
  await send(
    shoppers.flatMap((userId) =>
      [2, 1].map((hoursAgo) => ({
        type: 'track',
        messageId: randomUUID(),
        userId,
        event: 'Product Viewed',
        properties: { category: 'cameras' },
        timestamp: new Date(now - hoursAgo * 3_600_000).toISOString(),
      })),
    ),
  );

  // The shop's app asks for each shopper's checkout offers: once they are in camera-intent, each answer is an exposure.
  const experimentOffers = new Set(['checkout-free-shipping', 'checkout-ten-off']);
  const variantOf = new Map<string, string>();
  const profileOf = new Map<string, string>();
  await waitFor(
    async () => {
      for (const userId of shoppers.filter((u) => !variantOf.has(u))) {
        const served = await onOffers<{ profileId: string; offers: Array<{ key: string }> }>(200, 'GET', `/v1/customers/offers?userId=${encodeURIComponent(userId)}&placement=checkout`);
        const shown = served.offers.map((o) => o.key).filter((k) => experimentOffers.has(k));
        if (shown.length === 1) variantOf.set(userId, shown[0] === 'checkout-ten-off' ? 'ten-off' : 'control');
        profileOf.set(userId, served.profileId);
      }
      return variantOf.size === SHOPPERS;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: 'every shopper in camera-intent and served at checkout' },
  );
  const shownTen = [...variantOf.values()].filter((v) => v === 'ten-off').length;
  print(`  ${SHOPPERS} shoppers view cameras and reach checkout: ${SHOPPERS - shownTen} are shown free shipping, ${shownTen} 10 % off (offers assigns in process: no call per request)`);

  // Planted: 10 % of the control orders, 25 % of the 10 %-off variant.
  const random = seededRandom(7);
  const orders = shoppers.flatMap((userId, i) => {
    const rate = variantOf.get(userId) === 'ten-off' ? 0.25 : 0.1;
    return random() < rate
      ? [
          {
            type: 'track',
            messageId: randomUUID(),
            userId,
            event: 'Order Completed',
            properties: { order_id: `demo-exp-${suffix}-${i}`, revenue: ORDER_EUR, currency: 'EUR' },
            timestamp: new Date().toISOString(),
          },
        ]
      : [];
  });
  await send(orders);
  // Each order redeems the offer its shopper was shown: 10 % off costs 44.90 EUR an order, free shipping no money.
  for (const order of orders) {
    const userId = order.userId;
    await expectStatus(
      offers,
      adminKey,
      201,
      'POST',
      '/v1/redemptions',
      {
        offerKey: variantOf.get(userId) === 'ten-off' ? 'checkout-ten-off' : 'checkout-free-shipping',
        profileId: profileOf.get(userId),
        orderId: order.properties.order_id,
        orderAmount: { amount: ORDER_EUR * 100, currency: 'EUR' },
      },
      { 'idempotency-key': `demo-exp-${order.properties.order_id}` },
    );
  }
  const tenOffOrders = orders.filter((o) => variantOf.get(o.userId) === 'ten-off').length;
  let results: Results | undefined;
  await waitFor(
    async () => {
      results = await onExperiments<Results>(200, 'GET', '/v1/experiments/checkout-camera-offer/results');
      const overall = results.metrics.find((m) => m.key === 'orders')?.segments[0];
      const counted = (overall?.variants ?? []).reduce((sum, v) => sum + Math.round(v.n * (v.mean ?? 0)), 0);
      const exposed = Object.values(results.srm.users).reduce((a, b) => a + b, 0);
      // Every reward's cost in the net revenue: 44.90 EUR for each 10 %-off order.
      const cost = results.incremental.find((x) => x.segment === null)?.rewardCostPerCustomer.variant ?? 0;
      return exposed === SHOPPERS && counted === orders.length && Math.abs(cost * shownTen - tenOffOrders * ORDER_EUR * 0.1) < 1e-6;
    },
    // Five services on one embedded database each, on two cores: give the orders and rewards time to arrive.
    { timeoutMs: 120_000, intervalMs: 500, what: 'every exposure, order and reward in the experiment’s aggregates' },
  );
  const final = results as Results;
  const overall = final.metrics.find((m) => m.key === 'orders')?.segments[0];
  const rate = (key: string) => overall?.variants.find((v) => v.key === key)?.mean ?? 0;
  const comparison = overall?.comparisons[0];
  const lift = comparison?.frequentist?.absolute ?? null;
  print(`  ${orders.length} of them order; results from the streaming aggregates (GET ${experiments.url}/v1/experiments/checkout-camera-offer/results):`);
  for (const v of overall?.variants ?? []) print(`    ${v.key.padEnd(8)} exposed ${String(v.n).padStart(4)}   ordered ${((v.mean ?? 0) * 100).toFixed(1).padStart(5)} %`);
  if (lift)
    print(
      `    10 % off − free shipping: ${(lift.estimate * 100).toFixed(1)} points (95 % CI ${(lift.ci[0] * 100).toFixed(1)} to ${(lift.ci[1] * 100).toFixed(1)}), p = ${lift.pValue.toFixed(3)}; chance to beat control ${((comparison?.bayesian?.chanceToBeatControl ?? 0) * 100).toFixed(1)} %`,
    );
  const incremental = final.incremental.find((x) => x.segment === null);
  const net = incremental?.netLift ?? null;
  const eur = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)} EUR`;
  if (net && incremental?.netTotal)
    print(
      `    net of the rewards' cost (44.90 EUR per 10 %-off order): 10 % off − free shipping ${eur(net.estimate)} per shopper (95 % CI ${eur(net.ci[0])} to ${eur(net.ci[1])}); over the ${shownTen} shoppers shown 10 % off ${eur(incremental.netTotal.estimate)}`,
    );
  print(`    sample-ratio check: p = ${final.srm.pValue.toFixed(3)} (${final.srm.flagged ? 'MISMATCH' : 'no mismatch'})`);

  // The loop: the results by segment go to segmentation (on a schedule; here at once), whose KPIs show the segment's lift.
  await onExperiments(200, 'POST', '/v1/experiments/checkout-camera-offer/results/publish');
  let kpis: SegmentKpis | undefined;
  await waitFor(
    async () => {
      kpis = await expectStatus<SegmentKpis>(segmentation, adminKey, 200, 'GET', '/v1/segments/camera-intent/kpis?limit=1');
      return kpis.experiments?.some((e) => e.key === 'checkout-camera-offer') === true;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'the experiment’s lift in camera-intent’s KPIs' },
  );
  const inSegment = (kpis as SegmentKpis).experiments?.find((e) => e.key === 'checkout-camera-offer');
  const liftOf = (metricKey: string) => inSegment?.metrics.find((m) => m.metricKey === metricKey)?.variants.find((v) => v.variant === 'ten-off')?.lift ?? null;
  const orderLift = liftOf('orders');
  const netInSegment = liftOf('net-revenue');
  if (orderLift && netInSegment)
    print(
      `  the loop: segment camera-intent's KPIs (GET ${segmentation.url}/v1/segments/camera-intent/kpis) now show checkout-camera-offer: orders ${orderLift.estimate >= 0 ? '+' : '−'}${Math.abs(orderLift.estimate * 100).toFixed(1)} points, net revenue ${eur(netInSegment.estimate)} per shopper with 10 % off`,
    );
  return {
    segmentLift: orderLift === null ? null : { orders: orderLift.estimate, netRevenue: netInSegment?.estimate ?? null },
    netLift: net === null ? null : { estimate: net.estimate, ci: net.ci },
    exposed: final.srm.users,
    conversionRates: { control: rate('control'), 'ten-off': rate('ten-off') },
    lift,
    chanceToBeatControl: comparison?.bayesian?.chanceToBeatControl ?? null,
    srmPValue: final.srm.pValue,
  };
}
