import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { SUBJECTS, type ProfileActivityV1 } from '@segmenta/contracts';
import { createEnvelope } from '@segmenta/messaging';
import { startBenchService } from './bench-service';
import { benchProfileId } from './bench-ids';
import { OFFERS_BENCH_ENV } from './offers';
import { serviceApi } from './realtime';
import { fmt, median, print } from './report';

export interface LoyaltyBenchOptions {
  natsUrl: string;
  postgresUrl?: string;
  runs: number;
  /** Orders per run. */
  orders: number;
  /** Customers the orders are spread over. */
  customers: number;
}

const TARGET_EARNS_PER_SECOND = 2000;
const codec = JSONCodec();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes activities onto PROFILES, many in flight at once. */
async function publishActivities(nc: NatsConnection, prefix: string, activities: ProfileActivityV1[]): Promise<void> {
  const js = nc.jetstream();
  const subject = `${prefix}.${SUBJECTS.profilesActivity}`;
  for (let i = 0; i < activities.length; i += 500) await Promise.all(activities.slice(i, i + 500).map((data) => js.publish(subject, codec.encode(createEnvelope(SUBJECTS.profilesActivity, data)))));
}

/** Waits until `count()` reaches `target`; the seconds from `started`. */
async function secondsUntil(count: () => Promise<number>, target: number, started: number, timeoutMs = 300_000): Promise<number> {
  const deadline = started + timeoutMs;
  for (;;) {
    if ((await count()) >= target) return (performance.now() - started) / 1000;
    if (performance.now() > deadline) throw new Error(`only ${await count()} of ${target} after ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

/**
 * The points ledger (issue 19): `Order Completed` activities published onto PROFILES as fast as
 * JetStream takes them, then timed until every order has its earn entry in offers' ledger, against
 * the same number of `Product Viewed` activities through the same consumer (acked without a
 * transaction: the consumer's own ceiling), in the same run. Then the ledger check, and 100 parallel
 * point redemptions against a balance that covers 10.
 */
export async function benchLoyalty(options: LoyaltyBenchOptions): Promise<void> {
  if (!options.postgresUrl) {
    print('loyalty: skipped (needs a PostgreSQL server; set DATABASE_URL)');
    return;
  }
  const bench = await startBenchService({ app: 'offers', natsUrl: options.natsUrl, postgresUrl: options.postgresUrl, label: 'bench-loy', env: OFFERS_BENCH_ENV });
  const { service, adminKey, prefix } = bench;
  const client = new Client({ connectionString: bench.databaseUrl });
  const nc = await connect({ servers: options.natsUrl });
  try {
    await client.connect();
    await serviceApi(service, adminKey, 'POST', '/v1/earn-rules', { key: 'euro-base', name: 'A point per euro', rule: { type: 'base', currency: 'EUR', pointsPerUnit: 1 } });
    await serviceApi(service, adminKey, 'POST', '/v1/earn-rules', { key: 'cameras-double', name: 'Cameras earn double', rule: { type: 'category_multiplier', category: 'cameras', multiplier: 2 } });
    print(
      `loyalty: ${fmt(options.orders)} orders of ${fmt(options.customers)} customers per run through offers' PROFILES consumer (a base rate and a category multiplier), against as many product views through the same consumer; ${options.runs} runs`,
    );
    const earnsPerSecond: number[] = [];
    const viewsPerSecond: number[] = [];
    const earnCount = async () => Number((await client.query<{ n: string }>(`select count(*) as n from offers.points_ledger where kind = 'earn'`)).rows[0].n);
    let earnedBefore = 0;
    for (let run = 1; run <= options.runs; run += 1) {
      const activity = (i: number, name: string, properties: Record<string, unknown>): ProfileActivityV1 => ({
        profileId: benchProfileId(i % options.customers),
        eventId: randomUUID(),
        type: 'track',
        name,
        properties,
        traits: {},
        occurredAt: new Date().toISOString(),
      });
      // Baseline: views, which the consumer acks without a transaction; timed until the consumer's lag is gone.
      const views = Array.from({ length: options.orders }, (_, i) => activity(i, 'Product Viewed', { product_id: `p-${i}` }));
      const viewsStarted = performance.now();
      await publishActivities(nc, prefix, views);
      const drained = async () => {
        const info = await nc.jetstreamManager().then((jsm) => jsm.consumers.info(`${prefix}_PROFILES`, 'offers-loyalty-activity'));
        return info.num_pending === 0 && info.num_ack_pending === 0 ? options.orders : 0;
      };
      const viewSeconds = await secondsUntil(drained, options.orders, viewsStarted);
      viewsPerSecond.push(options.orders / viewSeconds);

      const orders = Array.from({ length: options.orders }, (_, i) =>
        activity(i, 'Order Completed', {
          order_id: `run-${run}-order-${i}`,
          revenue: 20 + (i % 200),
          currency: 'EUR',
          products: [{ category: i % 3 === 0 ? 'cameras' : 'books', price: 20 + (i % 200), quantity: 1 }],
        }),
      );
      const started = performance.now();
      await publishActivities(nc, prefix, orders);
      const seconds = await secondsUntil(earnCount, earnedBefore + options.orders, started);
      earnedBefore += options.orders;
      earnsPerSecond.push(options.orders / seconds);
      print(`  run ${run}: ${fmt(options.orders / seconds)} orders earned/s (${seconds.toFixed(1)} s); product views through the same consumer ${fmt(options.orders / viewSeconds)}/s`);
    }
    const check = (await serviceApi(service, adminKey, 'GET', '/v1/loyalty/ledger-check')) as { ok: boolean; accounts: number; mismatches: unknown[] };

    // 100 parallel spends of 100 points against a balance of 1,000.
    const spender = randomUUID();
    const credit = await fetch(`${service.url}/v1/loyalty/adjustments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}`, 'idempotency-key': randomUUID() },
      body: JSON.stringify({ profileId: spender, points: 1000, reason: 'bench' }),
    });
    if (credit.status !== 201) throw new Error(`POST /v1/loyalty/adjustments: ${credit.status} ${await credit.text()}`);
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        fetch(`${service.url}/v1/loyalty/redemptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}`, 'idempotency-key': randomUUID() },
          body: JSON.stringify({ profileId: spender, points: 100 }),
        }).then((r) => r.status),
      ),
    );
    const loyalty = (await serviceApi(service, adminKey, 'GET', `/v1/customers/${spender}/loyalty`)) as { available: number };
    const succeeded = answers.filter((s) => s === 201).length;

    const earns = median(earnsPerSecond);
    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| orders earned/s, stream → committed ledger entry, lot and loyalty.points (median of ${options.runs}) | ${fmt(earns)} | ≥ ${fmt(TARGET_EARNS_PER_SECOND)} |`);
    print(`| product views through the same consumer (baseline, median) | ${fmt(median(viewsPerSecond))}/s | |`);
    print(`| earned / baseline | ${Math.round((100 * earns) / median(viewsPerSecond))} % | |`);
    print(
      `| ledger check after the runs (${fmt(check.accounts)} accounts) | ${check.ok ? 'every balance equals its ledger' : `${check.mismatches.length} mismatches`} | every balance equals its ledger |`,
    );
    print(`| 100 parallel spends of 100 points against 1,000 | ${succeeded} succeeded, ${answers.filter((s) => s === 409).length} refused, balance ${loyalty.available} | exactly 10, balance 0 |`);
  } finally {
    await nc.close();
    await client.end();
    await bench.stop();
  }
}
