import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { SUBJECTS, type ProfileActivityV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { WebhookReceiver } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { verifyWebhook } from '@segmenta/webhooks';
import { startBenchService } from './bench-service';
import { benchProfileId } from './bench-ids';
import { OFFERS_BENCH_ENV } from './offers';
import { serviceApi } from './realtime';
import { fmt, median, print } from './report';

export interface JourneysBenchOptions {
  natsUrl: string;
  postgresUrl?: string;
  runs: number;
  /** Enrollments whose waits fall due together. */
  waiters: number;
  /** Webhook sends per run. */
  webhooks: number;
}

const TARGET_DUE_SECONDS = 60;
const TARGET_WEBHOOKS_PER_SECOND = 500;
const codec = JSONCodec();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function publishAll(nc: NatsConnection, subject: string, items: Array<{ data: unknown; type: string }>): Promise<void> {
  const js = nc.jetstream();
  for (let i = 0; i < items.length; i += 1000) await Promise.all(items.slice(i, i + 1000).map((m) => js.publish(subject, codec.encode(createEnvelope(m.type, m.data)))));
}

async function secondsUntil(count: () => Promise<number>, target: number, started: number, timeoutMs = 600_000): Promise<number> {
  for (;;) {
    if ((await count()) >= target) return (performance.now() - started) / 1000;
    if (performance.now() > started + timeoutMs) throw new Error(`only ${await count()} of ${target} after ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/**
 * Journeys (issue 20), on offers as a process of its own:
 * 1. `waiters` customers enter a journey through segments.entered and run its first step, a wait;
 *    the bench then makes every wait due at once (one UPDATE of their due time: it does not sit out
 *    the wait) and times until each has run its next step, a send, checked exactly once. The
 *    baseline is the raw cost of writing as many step rows in one INSERT … SELECT.
 * 2. `webhooks` track events each start a journey that sends a signed webhook to a local receiver;
 *    timed from the first publish until the receiver has every delivery id, against the same number
 *    of POSTs sent by the bench itself to the same receiver, 100 at a time.
 */
export async function benchJourneys(options: JourneysBenchOptions): Promise<void> {
  if (!options.postgresUrl) {
    print('journeys: skipped (needs a PostgreSQL server; set DATABASE_URL)');
    return;
  }
  const receiver = new WebhookReceiver((secret, headers, body) => verifyWebhook(secret, headers, body));
  await receiver.start();
  const hook = `${receiver.url}/hook`;
  const ids = () => new Set(receiver.on('/hook').map((r) => r.headers['webhook-id'])).size;
  const bench = await startBenchService({
    app: 'offers',
    natsUrl: options.natsUrl,
    postgresUrl: options.postgresUrl,
    label: 'bench-jrn',
    env: { ...OFFERS_BENCH_ENV, JOURNEY_POLL_MS: '200', JOURNEY_BATCH_SIZE: '1000' },
  });
  const { service, adminKey, prefix } = bench;
  const client = new Client({ connectionString: bench.databaseUrl });
  const nc = await connect({ servers: options.natsUrl });
  const count = async (query: string) => Number((await client.query<{ n: string }>(query)).rows[0].n);
  try {
    await client.connect();
    const channel = (await serviceApi(service, adminKey, 'PUT', '/v1/channels/email', { type: 'webhook', url: hook })) as { secrets: string[] };
    receiver.secrets.set('/hook', channel.secrets[0]);
    await serviceApi(service, adminKey, 'PUT', '/v1/channels/push', { type: 'nats', subject: 'journeys.bench.push' });
    await serviceApi(service, adminKey, 'POST', '/v1/journeys', {
      key: 'waiters',
      name: 'Waiters',
      definition: {
        trigger: { type: 'segment_entered', segment: 'bench-waiters' },
        steps: [
          { id: 'hold', type: 'wait', duration: 'P7D', next: 'push' },
          { id: 'push', type: 'send', channel: 'push', message: { template: 'due' } },
        ],
        reentry: { policy: 'after', days: 1 },
      },
    });
    await serviceApi(service, adminKey, 'POST', '/v1/journeys/waiters/status', { status: 'active' });
    await serviceApi(service, adminKey, 'POST', '/v1/journeys', {
      key: 'pings',
      name: 'Pings',
      definition: {
        trigger: { type: 'event', event: 'Bench Ping', where: [] },
        steps: [{ id: 'email', type: 'send', channel: 'email', message: { template: 'ping' } }],
        reentry: { policy: 'after', days: 1 },
      },
    });
    await serviceApi(service, adminKey, 'POST', '/v1/journeys/pings/status', { status: 'active' });
    print(`journeys: ${fmt(options.waiters)} waits due at once per run, then ${fmt(options.webhooks)} webhook sends per run to a local receiver; ${options.runs} runs`);

    const entersPerSecond: number[] = [];
    const dueSeconds: number[] = [];
    const baselineSeconds: number[] = [];
    const webhookRates: number[] = [];
    const directRates: number[] = [];
    let exactlyOnce = true;
    for (let run = 1; run <= options.runs; run += 1) {
      // 1. Entries, each running its first step (the wait).
      const segmentId = randomUUID();
      const entries = Array.from({ length: options.waiters }, (_, i) => {
        const data: SegmentMembershipChangedV1 = {
          seq: i + 1,
          segmentId,
          segmentKey: 'bench-waiters',
          segmentVersion: run,
          profileId: benchProfileId(i),
          change: 'entered',
          at: new Date().toISOString(),
        };
        return { type: SUBJECTS.segmentsEntered, data };
      });
      // Each run's customers may enter again: their last entry is moved back past the re-entry days, as if a day had passed.
      await client.query(`update offers.journey_entries set last_entered_at = last_entered_at - interval '2 days'`);
      await client.query(`update offers.journey_enrollments set status = 'completed', step_id = null, due_at = null where status = 'active'`);
      const holdsBefore = await count(`select count(*) as n from offers.journey_step_runs where step_id = 'hold'`);
      const entering = performance.now();
      await publishAll(nc, `${prefix}.${SUBJECTS.segmentsEntered}`, entries);
      const enterSeconds = await secondsUntil(() => count(`select count(*) as n from offers.journey_step_runs where step_id = 'hold'`), holdsBefore + options.waiters, entering);
      entersPerSecond.push(options.waiters / enterSeconds);

      // Every wait falls due now.
      const pushesBefore = await count(`select count(*) as n from offers.journey_step_runs where step_id = 'push'`);
      const due = performance.now();
      await client.query(`update offers.journey_enrollments set due_at = now() where status = 'active' and step_id = 'push'`);
      const seconds = await secondsUntil(() => count(`select count(*) as n from offers.journey_step_runs where step_id = 'push'`), pushesBefore + options.waiters, due);
      dueSeconds.push(seconds);
      const once = await client.query<{ runs: string; enrollments: string; deliveries: string }>(
        `select (select count(*) from offers.journey_step_runs where step_id = 'push') as runs,
                (select count(*) from offers.journey_enrollments where journey_key = 'waiters') as enrollments,
                (select count(*) from offers.journey_deliveries where journey_key = 'waiters') as deliveries`,
      );
      const { runs, enrollments, deliveries } = once.rows[0];
      if (!(runs === enrollments && deliveries === enrollments)) exactlyOnce = false;

      // Baseline: as many step rows written by one statement.
      const baselineStarted = performance.now();
      await client.query(`create temporary table if not exists bench_runs (like offers.journey_step_runs)`);
      await client.query(`truncate bench_runs`);
      await client.query(
        `insert into bench_runs (enrollment_id, step_id, journey_key, version, outcome, detail, at) select gen_random_uuid(), 'push', 'waiters', 1, 'sent', null, now() from generate_series(1, $1)`,
        [options.waiters],
      );
      baselineSeconds.push((performance.now() - baselineStarted) / 1000);
      await waitForDeliveries(count, 'waiters');
      print(
        `  run ${run}: ${fmt(options.waiters)} entries in ${enterSeconds.toFixed(1)} s (${fmt(options.waiters / enterSeconds)}/s); all due waits ran their next step in ${seconds.toFixed(1)} s (${fmt(options.waiters / seconds)} steps/s); ${runs} step runs, ${deliveries} deliveries for ${enrollments} enrollments`,
      );

      // 2. Webhooks: track events → enrollment → send → signed POST.
      const pings = Array.from({ length: options.webhooks }, (_, i) => {
        const data: ProfileActivityV1 = {
          profileId: benchProfileId(1_000_000 + run * options.webhooks + i),
          eventId: randomUUID(),
          type: 'track',
          name: 'Bench Ping',
          properties: {},
          traits: {},
          occurredAt: new Date().toISOString(),
        };
        return { type: SUBJECTS.profilesActivity, data };
      });
      const idsBefore = ids();
      const sending = performance.now();
      await publishAll(nc, `${prefix}.${SUBJECTS.profilesActivity}`, pings);
      const webhookSeconds = await secondsUntil(async () => ids(), idsBefore + options.webhooks, sending);
      webhookRates.push(options.webhooks / webhookSeconds);

      // Baseline: the bench's own POSTs to the same receiver, 100 in flight.
      const direct = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 100 }, async () => {
          while (next < options.webhooks) {
            next += 1;
            const response = await fetch(`${receiver.url}/direct`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"direct":true}' });
            await response.text();
          }
        }),
      );
      directRates.push(options.webhooks / ((performance.now() - direct) / 1000));
      print(
        `  run ${run}: ${fmt(options.webhooks)} webhooks delivered in ${webhookSeconds.toFixed(1)} s (${fmt(options.webhooks / webhookSeconds)}/s); the bench's own POSTs ${fmt(directRates[directRates.length - 1])}/s`,
      );
    }
    const verified = receiver.on('/hook').every((r) => r.verified);

    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| segment entries → enrolled and first step (a wait) run, per s (median of ${options.runs}) | ${fmt(median(entersPerSecond))} | |`);
    print(`| ${fmt(options.waiters)} waits due at once: seconds until all ran their next step (a send), median | ${median(dueSeconds).toFixed(1)} s | ≤ ${TARGET_DUE_SECONDS} s |`);
    print(`| steps run per s when due together, median | ${fmt(options.waiters / median(dueSeconds))} | |`);
    print(`| the same number of step rows in one INSERT (baseline), median | ${median(baselineSeconds).toFixed(2)} s | |`);
    print(`| each step exactly once (step runs = deliveries = enrollments) | ${exactlyOnce ? 'yes' : 'NO'} | yes |`);
    print(`| webhooks delivered/s, event → signed POST answered (median) | ${fmt(median(webhookRates))} | ≥ ${TARGET_WEBHOOKS_PER_SECOND} |`);
    print(`| the bench's own POSTs to the same receiver (baseline, median) | ${fmt(median(directRates))}/s | |`);
    print(`| journeys' deliveries / baseline | ${Math.round((100 * median(webhookRates)) / median(directRates))} % | |`);
    print(`| every delivery verifies with its channel's secret | ${verified ? 'yes' : 'NO'} | yes |`);
  } finally {
    await nc.close();
    await client.end();
    await bench.stop();
    await receiver.stop();
  }
}

/** The pushes to NATS go out in the background; the next part starts once they are done. */
async function waitForDeliveries(count: (query: string) => Promise<number>, journey: string): Promise<void> {
  const started = performance.now();
  await secondsUntil(async () => ((await count(`select count(*) as n from offers.journey_deliveries where journey_key = '${journey}' and status = 'pending'`)) === 0 ? 1 : 0), 1, started);
}
