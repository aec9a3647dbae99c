import { randomUUID } from 'node:crypto';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { expectStatus } from './demo-offers';

/** What the loyalty step shows, for the demo's test. */
export interface DemoLoyalty {
  earned: number;
  pendingThenAvailable: boolean;
  redeemed: number;
  clawedBack: number;
  unrecovered: number;
  tier: string | null;
  goldOfferReasons: string[];
}

interface Loyalty {
  available: number;
  pending: number;
  tier: { key: string; name: string } | null;
  nextTier: { name: string; pointsToGo: number | null } | null;
  pendingPoints: Array<{ points: number; availableAt: string }>;
  history: Array<{ kind: string; availableDelta: number; pendingDelta: number; orderId: string | null; details: Record<string, unknown> | null }>;
}

/**
 * The loyalty story (issue 19), through ingestion like a shop would send it: earn rules (a point per
 * euro, double for camera-intent) and tiers (Silver, Gold) and a Gold-only offer; an order earns
 * base points × the segment's multiplier, pending for its return window, then available; the
 * customer spends some; a refund claws back the rest of that order's points; a bigger order crosses
 * the Gold threshold, and the Gold offer appears in the customer's personalized offers at once.
 */
export async function showLoyalty(options: {
  offers: ServiceProcess;
  ingestion: ServiceProcess;
  adminKey: string;
  writeKey: string;
  customerProfileId: string;
  userId: string;
  print: (line: string) => void;
}): Promise<DemoLoyalty> {
  const { offers, ingestion, adminKey, writeKey, customerProfileId, userId, print } = options;
  const admin = <T>(expected: number, method: string, path: string, body?: unknown, headers?: Record<string, string>) => expectStatus<T>(offers, adminKey, expected, method, path, body, headers);
  await admin(201, 'POST', '/v1/earn-rules', { key: 'euro-base', name: 'A point per euro', rule: { type: 'base', currency: 'EUR', pointsPerUnit: 1 } });
  await admin(201, 'POST', '/v1/earn-rules', { key: 'camera-fans-double', name: 'Camera fans earn double', rule: { type: 'segment_multiplier', segment: 'camera-intent', multiplier: 2 } });
  await admin(200, 'PUT', '/v1/loyalty/program', { returnWindowDays: 14, capPerOrder: null, capPerDay: null, expireAfterDays: 365, expiringNoticeDays: 30 });
  await admin(200, 'PUT', '/v1/tiers/silver', { name: 'Silver', rank: 1, minPoints: 1000 });
  await admin(200, 'PUT', '/v1/tiers/gold', { name: 'Gold', rank: 2, minPoints: 3000 });
  await admin(201, 'POST', '/v1/offers', {
    key: 'gold-express',
    name: 'Free express shipping for Gold',
    description: 'Gold members ship express for free.',
    reward: { type: 'free_shipping' },
    placements: ['checkout'],
    priority: 20,
    startsAt: '2020-01-01T00:00',
    endsAt: null,
    timeZone: 'Europe/Berlin',
    eligibility: { tiers: ['gold'] },
  });
  await admin(200, 'POST', '/v1/offers/gold-express/status', { status: 'active' });
  print('  earn rules: 1 point per euro, × 2 for camera-intent; return window 14 days; tiers Silver (1,000 points a year) and Gold (3,000); offer "gold-express" for Gold only');

  const track = async (event: string, properties: Record<string, unknown>, timestamp = new Date()) => {
    const response = await fetch(`${ingestion.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
      body: JSON.stringify({ messageId: randomUUID(), userId, event, properties, timestamp: timestamp.toISOString() }),
    });
    if (response.status !== 200) throw new Error(`POST /v1/track answered ${response.status}: ${await response.text()}`);
  };
  const loyalty = () => admin<Loyalty>(200, 'GET', `/v1/customers/${customerProfileId}/loyalty`);
  const until = async (check: (l: Loyalty) => boolean, what: string) => {
    let last: Loyalty | undefined;
    await waitFor(
      async () => {
        last = await loyalty();
        return check(last);
      },
      { timeoutMs: 30_000, intervalMs: 200, what },
    );
    return last as Loyalty;
  };

  // An order whose 14-day return window ends ten seconds from now: pending first, then available.
  const orderedAt = new Date(Date.now() - 14 * 86_400_000 + 10_000);
  await track('Order Completed', { order_id: 'demo-order-10', revenue: 1299, currency: 'EUR', products: [{ category: 'cameras', price: 1299, quantity: 1 }] }, orderedAt);
  const first = await until((l) => l.history.some((e) => e.kind === 'earn' && e.orderId === 'demo-order-10'), 'the order earned');
  const earn = first.history.find((e) => e.kind === 'earn' && e.orderId === 'demo-order-10');
  const earned = (earn?.pendingDelta ?? 0) + (earn?.availableDelta ?? 0);
  print(
    `  order demo-order-10, 1,299.00 EUR: ${earned} points = 1,299 × 1 point per euro × ${String(earn?.details?.segmentMultiplier)} (member of ${String(earn?.details?.segment)}), pending until ${new Date(orderedAt.getTime() + 14 * 86_400_000).toISOString()}; tier ${first.tier?.name ?? 'none'}`,
  );
  const available = await until((l) => l.available >= earned, 'the points available');
  print(`  the return window passed: ${available.available} points available (the loyalty jobs released them)`);

  const spent = 500;
  await admin(201, 'POST', '/v1/loyalty/redemptions', { profileId: customerProfileId, points: spent, orderId: 'demo-order-11' }, { 'idempotency-key': 'demo-points-1' });
  const afterSpend = await loyalty();
  print(`  the customer spends ${spent} points at checkout: ${afterSpend.available} left (POST ${offers.url}/v1/loyalty/redemptions)`);

  await track('Order Refunded', { order_id: 'demo-order-10' });
  const refunded = await until((l) => l.history.some((e) => e.kind === 'clawback'), 'the refund clawed back');
  const clawback = refunded.history.find((e) => e.kind === 'clawback');
  const clawedBack = -((clawback?.availableDelta ?? 0) + (clawback?.pendingDelta ?? 0));
  const unrecovered = Number(clawback?.details?.unrecovered ?? 0);
  print(
    `  demo-order-10 is returned: its ${clawedBack} unspent points are clawed back (${unrecovered} were spent already, and the balance holds nothing else to take them from); ${refunded.available} available`,
  );

  await track('Order Completed', { order_id: 'demo-order-12', revenue: 1600, currency: 'EUR', products: [{ category: 'lenses', price: 1600, quantity: 1 }] });
  const gold = await until((l) => l.tier?.key === 'gold', 'the Gold tier');
  print(
    `  order demo-order-12, 1,600.00 EUR: ${gold.pending} points pending; the year's points cross 3,000 → tier ${gold.tier?.name} at once (${gold.nextTier === null ? 'the top tier' : `next: ${gold.nextTier.name}`})`,
  );
  type Served = { offers: Array<{ key: string; reasons: string[] }> };
  let served: Served | undefined;
  await waitFor(
    async () => {
      served = await admin<Served>(200, 'GET', `/v1/customers/offers?userId=${encodeURIComponent(userId)}&placement=checkout`);
      return served.offers.some((o) => o.key === 'gold-express');
    },
    { timeoutMs: 15_000, what: 'the Gold offer among the customer’s offers' },
  );
  const goldOffer = (served as Served).offers.find((o) => o.key === 'gold-express') as Served['offers'][number];
  print(`  the app's checkout offers now include gold-express  because: ${goldOffer.reasons.join('; ')}`);
  return {
    earned,
    pendingThenAvailable: (earn?.pendingDelta ?? 0) > 0 && available.available >= earned,
    redeemed: spent,
    clawedBack,
    unrecovered,
    tier: gold.tier?.key ?? null,
    goldOfferReasons: goldOffer.reasons,
  };
}
