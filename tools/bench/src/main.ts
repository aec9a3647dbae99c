import { readFileSync } from 'node:fs';
import { AckPolicy, connect, headers as natsHeaders } from 'nats';
import { randomBytes } from 'node:crypto';
import { parseCommandLineOrExit } from '@segmenta/cli';
import { ensureNats, ensurePostgres, startServiceProcess, type ServiceProcess } from '@segmenta/infra';
import { JetStreamClient, createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase } from '@segmenta/persistence';
import { Client } from 'pg';
import { batchTemplate, sampleTrackCall } from './sample-events';
import { fmt, median, print } from './report';
import { benchAnalytics, benchAnalyzeCli, benchKMeans } from './analytics';
import { benchFaults } from './faults';
import { benchEvaluator, benchSegmentation } from './segmentation';
import { runLoadProcess } from './load-process';
import type { LoadSummary } from './autocannon-summary';
import { benchBanditAllocation } from './bandit';
import { benchExperimentAssignment } from './experiments';
import { benchExperimentsService } from './experiments-service';
import { benchJourneys } from './journeys';
import { benchLoyalty } from './loyalty';
import { benchOffers } from './offers';
import { benchRedemptions } from './redemptions';
import { benchFreshness } from './freshness';
import { benchOverload, type OverloadCase } from './overload';

/**
 * `npm run bench`: ingestion's accepted-and-durable throughput under batches of 100 realistic
 * events from a separate load process, against the raw JetStream publish rate of the same message
 * bodies measured in the same run. Prints medians of several runs and their ratio.
 */
const USAGE = `Usage: npm run bench -- [--only=ingestion|segmentation|evaluator|analytics|faults|overload|offers|redemptions|freshness|loyalty|journeys|experiments|bandit] [options]
  --runs=<n>                 runs of each measurement, default 3
  --seconds=<n>              length of an ingestion load run, default 10
  --connections=<n>          load connections, default 8
  --raw-messages=<n>         messages of the raw JetStream baseline, default 40000
  --profile-events=<n>       events of the profiles run, default 100000
  --lag-rate=<n> --lag-seconds=<n>   paced load of the lag measurement, default 5000/s for 15 s
  --only=evaluator           only segmentation's in-memory evaluator (no NATS, no PostgreSQL)
  --only=offers              only the personalized offers API, with --offer-profiles=<n> (default 200000 customers
                             in 5 segments each: 1,000,000 memberships) --offer-connections=<n> (default 50)
  --only=redemptions         only POST /v1/redemptions at full speed: --runs runs of --seconds without a budget, then against one they
                             cannot reach; then against --redemption-budget=<n> (default 500) until twice it was offered, at least
                             --budget-seconds=<n> (default 5);
                             --offer-connections=<n> (default 50), --redemption-customers=<n> random customers (default 100000)
  --only=freshness           only track call → segment's offer served, through ingestion → profiles → segmentation → offers:
                             --freshness-rate=<n> background track calls/s (default 500), --freshness-warmup=<n> s (default 5),
                             --freshness-probes=<n> (default 100) --probe-interval=<ms> apart (default 250), polled every --poll-ms=<ms> (default 10)
  --only=loyalty             only the points ledger: --loyalty-orders=<n> orders per run (default 20000) of --loyalty-customers=<n>
                             (default 10000) earned through offers' PROFILES consumer, the ledger check, 100 parallel point spends
  --only=journeys            only journeys: --journey-waiters=<n> enrollments whose waits fall due at once (default 100000), then
                             --journey-webhooks=<n> signed webhook sends to a local receiver (default 10000), per run
  --only=experiments         only experiments: assignment in process, --assignments=<n> ids per run (default 1000000) through
                             ours and the GrowthBook JavaScript SDK; then the experiments service: POST /v1/experiments/:key/assignments
                             for --seconds with --assignment-connections=<n> (default 50), first exposures drawn once each from
                             --assignment-customers=<n> in the targeted segment (default 300000, 0 skips), then repeat customers;
                             --experiment-events=<n> exposures then as many conversions per run through the aggregates (default 100000, 0 skips);
                             results of --experiment-exposures=<n> written into the raw tables (default 10000000, 0 skips) against a full scan;
                             the programme's lift by segment over --programme-customers=<n> with 5 % held out (default 1000000, 0 skips)
  --only=bandit              only the bandit's Thompson allocation for 30 segments × 5 arms (no NATS, no PostgreSQL)
  --segment-profiles=<n>     profiles of the segment recompute, default 1000000 (0 skips it)
  --facts-per-profile=<n>    default 10
  --realtime-rate=<n> --realtime-seconds=<n> --realtime-warmup=<n>   real-time segmentation load, default 1000/s for 20 s after 5 s
  --realtime-capacity=<r1,r2,…> --capacity-seconds=<n>   rates tried in turn for the real-time capacity, default 1250,1500,2000,…,5000 for 10 s each (0 skips it)
  --pg-statements            the real-time run against a private PostgreSQL with pg_stat_statements, and where its statement time went
  --analytics-customers=<n> --kmeans-rows=<n> --analyze-orders=<n>   sizes of the analytics benchmarks
  --fault-rate=<n> --down-seconds=<n> --ack-wait=<ms>   recovery after faults: load 200 events/s (one that profiles sustains), PostgreSQL down 10 s, the services' NATS_ACK_WAIT_MS (default theirs)
  --overload-connections=<n> --overload-seconds=<n>   ingestion overload (only with --only=overload), default 200 connections for 10 s

Figures and what each measures: BENCHMARKS.md.`;
const OPTIONS = [
  'only',
  'runs',
  'seconds',
  'connections',
  'raw-messages',
  'profile-events',
  'lag-rate',
  'lag-seconds',
  'segment-profiles',
  'facts-per-profile',
  'realtime-rate',
  'realtime-seconds',
  'realtime-warmup',
  'realtime-capacity',
  'capacity-seconds',
  'pg-statements',
  'analytics-customers',
  'kmeans-rows',
  'analyze-orders',
  'offer-profiles',
  'offer-connections',
  'redemption-customers',
  'redemption-budget',
  'budget-seconds',
  'freshness-rate',
  'freshness-warmup',
  'freshness-probes',
  'probe-interval',
  'poll-ms',
  'fault-rate',
  'down-seconds',
  'ack-wait',
  'overload-connections',
  'overload-seconds',
  'loyalty-orders',
  'loyalty-customers',
  'journey-waiters',
  'journey-webhooks',
  'assignments',
  'assignment-connections',
  'assignment-customers',
  'experiment-events',
  'experiment-exposures',
  'programme-customers',
];
const args = parseCommandLineOrExit(USAGE, process.argv.slice(2), Object.fromEntries(OPTIONS.map((name) => [name, name === 'pg-statements' ? ('boolean' as const) : ('string' as const)]))).values;
const ONLY_PARTS = ['ingestion', 'segmentation', 'evaluator', 'analytics', 'faults', 'overload', 'offers', 'redemptions', 'freshness', 'loyalty', 'journeys', 'experiments', 'bandit'];
const only = args.get('only');
if (only !== undefined && !ONLY_PARTS.includes(String(only))) {
  // An unknown part used to fall through to the whole bench (tens of minutes).
  process.stderr.write(`--only=${String(only)} is not a part of the bench: ${ONLY_PARTS.join(', ')}\n`);
  process.exit(2);
}
const RUNS = Number(args.get('runs') ?? 3);
const SECONDS = Number(args.get('seconds') ?? 10);
// 8 connections × 100 events keep ~800 events in flight: enough to saturate one ingestion process,
// and by Little's law (in flight = rate × latency) ~50 ms per request at 16k events/s. More
// connections add only queueing: 16 give the same rate at twice the latency.
const CONNECTIONS = Number(args.get('connections') ?? 8);
const BATCH = 100;
const RAW_MESSAGES = Number(args.get('raw-messages') ?? 40000);

/**
 * The overload benchmark's configurations: every protection off (the code before issue 15 behaves
 * so) as the baseline of the same run, then the defaults.
 */
const OVERLOAD_CASES: OverloadCase[] = [
  { name: 'protections off', env: { RATE_LIMIT_PER_ADDRESS: '0', RATE_LIMIT_PER_KEY: '0', AUTH_FAILURE_LIMIT: '0', SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' } },
  { name: 'defaults', env: {} },
  { name: 'defaults + HEALTH_PORT', env: {}, healthPort: true },
];

/** What ingestion publishes for a sample call: the same bytes the raw baseline publishes. */
function envelopeBody(index: number, runId: string): Uint8Array {
  const call = sampleTrackCall(index, runId);
  const data = {
    ...call,
    sourceId: '0b6a1c1e-8a8e-4f4e-9c55-2f1d1d0c0f00',
    traits: {},
    integrations: {},
    originalTimestamp: call.timestamp,
    sentAt: '2026-11-23T10:15:31.000Z',
    receivedAt: new Date().toISOString(),
  };
  return new TextEncoder().encode(JSON.stringify({ id: call.messageId, type: 'track', occurredAt: call.timestamp, data }));
}

/** Raw JetStream publishes with a window of async acks, one client: the ceiling ingestion is compared with. */
async function rawPublishRate(natsUrl: string, prefix: string, run: number): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  const js = nc.jetstream();
  const subject = `${prefix}.events.track`;
  const bodies = Array.from({ length: RAW_MESSAGES }, (_, i) => envelopeBody(i, `raw${run}`));
  const window = 256;
  const started = performance.now();
  for (let i = 0; i < bodies.length; i += window) {
    await Promise.all(
      bodies.slice(i, i + window).map((body, j) => {
        const h = natsHeaders();
        h.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
        return js.publish(subject, body, { msgID: `raw${run}-${i + j}`, headers: h });
      }),
    );
  }
  const rate = RAW_MESSAGES / ((performance.now() - started) / 1000);
  await nc.close();
  return rate;
}

function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

type LoadResult = LoadSummary;

function runLoad(url: string, authorization: string, runId: string, paced?: { requestsPerSecond: number; seconds: number }): Promise<LoadResult> {
  return runLoadProcess<LoadResult>('load.js', [url, authorization, String(CONNECTIONS), String(paced?.seconds ?? SECONDS), String(BATCH), runId, ...(paced ? [String(paced.requestsPerSecond)] : [])]);
}

async function main(): Promise<void> {
  const analytics = async () => {
    benchAnalytics({ runs: RUNS, customers: Number(args.get('analytics-customers') ?? 100_000) });
    benchKMeans({ runs: RUNS, rows: Number(args.get('kmeans-rows') ?? 1_000_000) });
    await benchAnalyzeCli({ orders: Number(args.get('analyze-orders') ?? 1_000_000) });
  };
  if (args.get('only') === 'faults') {
    print(`Segmenta benchmark · ${new Date().toISOString()} · node ${process.version} · ${RUNS} runs`);
    const ackWait = args.get('ack-wait');
    await benchFaults({
      runs: RUNS,
      rate: Number(args.get('fault-rate') ?? 200),
      downSeconds: Number(args.get('down-seconds') ?? 10),
      env: ackWait ? { NATS_ACK_WAIT_MS: ackWait } : {},
    });
    return;
  }
  if (args.get('only') === 'bandit') {
    print(`Segmenta benchmark · ${new Date().toISOString()} · node ${process.version} · ${RUNS} runs`);
    benchBanditAllocation({ runs: RUNS });
    return;
  }
  if (args.get('only') === 'evaluator') {
    print(`Segmenta benchmark · ${new Date().toISOString()} · node ${process.version} · ${RUNS} runs`);
    benchEvaluator(RUNS);
    return;
  }
  if (args.get('only') === 'analytics') {
    print(`Segmenta benchmark · ${new Date().toISOString()} · node ${process.version} · ${RUNS} runs`);
    await analytics();
    return;
  }
  const nats = await ensureNats({ url: process.env.NATS_URL, log: print });
  const postgres = await ensurePostgres({ url: process.env.DATABASE_URL, log: print });
  const namespace = createTestNamespace(nats.url, 'bench');
  const setup = await JetStreamClient.connect({ url: nats.url, prefix: namespace.prefix });
  await setup.provisionStreams(['EVENTS']);
  await setup.drain();
  print(`Segmenta benchmark · ${new Date().toISOString()} · node ${process.version} · NATS ${nats.url} · ${RUNS} runs`);
  const segmentation = () =>
    benchSegmentation({
      natsUrl: nats.url,
      postgresUrl: postgres.url,
      profiles: Number(args.get('segment-profiles') ?? 1_000_000),
      factsPerProfile: Number(args.get('facts-per-profile') ?? 10),
      realtime: {
        rate: Number(args.get('realtime-rate') ?? 1000),
        seconds: Number(args.get('realtime-seconds') ?? 20),
        warmupSeconds: Number(args.get('realtime-warmup') ?? 5),
        capacityRates: (args.get('realtime-capacity') ?? '1250,1500,2000,2500,3000,4000,5000')
          .split(',')
          .map(Number)
          .filter((rate) => rate > 0),
        capacitySeconds: Number(args.get('capacity-seconds') ?? 10),
        statements: args.has('pg-statements'),
      },
      runs: RUNS,
    });
  // The parts that run services of their own on these NATS and PostgreSQL servers: one of them, then the namespace and NATS go.
  const serviceParts: Record<string, () => Promise<void>> = {
    experiments: async () => {
      benchExperimentAssignment({ runs: RUNS, assignments: Number(args.get('assignments') ?? 1_000_000) });
      await benchExperimentsService({
        natsUrl: nats.url,
        postgresUrl: postgres.url,
        runs: RUNS,
        seconds: SECONDS,
        connections: Number(args.get('assignment-connections') ?? 50),
        audience: Number(args.get('assignment-customers') ?? 300_000),
        events: Number(args.get('experiment-events') ?? 100_000),
        exposures: Number(args.get('experiment-exposures') ?? 10_000_000),
        programmeCustomers: Number(args.get('programme-customers') ?? 1_000_000),
      });
    },
    journeys: () =>
      benchJourneys({
        natsUrl: nats.url,
        postgresUrl: postgres.url,
        runs: RUNS,
        waiters: Number(args.get('journey-waiters') ?? 100_000),
        webhooks: Number(args.get('journey-webhooks') ?? 10_000),
      }),
    loyalty: () =>
      benchLoyalty({
        natsUrl: nats.url,
        postgresUrl: postgres.url,
        runs: RUNS,
        orders: Number(args.get('loyalty-orders') ?? 20_000),
        customers: Number(args.get('loyalty-customers') ?? 10_000),
      }),
    offers: () =>
      benchOffers({
        natsUrl: nats.url,
        postgresUrl: postgres.url,
        runs: RUNS,
        seconds: SECONDS,
        connections: Number(args.get('offer-connections') ?? 50),
        offers: 100,
        segments: 200,
        profiles: Number(args.get('offer-profiles') ?? 200_000),
        segmentsPerProfile: 5,
      }),
    redemptions: () =>
      benchRedemptions({
        natsUrl: nats.url,
        postgresUrl: postgres.url,
        runs: RUNS,
        seconds: SECONDS,
        connections: Number(args.get('offer-connections') ?? 50),
        customers: Number(args.get('redemption-customers') ?? 100_000),
        smallBudget: Number(args.get('redemption-budget') ?? 500),
        smallSeconds: Number(args.get('budget-seconds') ?? 5),
      }),
    freshness: () =>
      benchFreshness({
        natsUrl: nats.url,
        postgresUrl: postgres.url,
        rate: Number(args.get('freshness-rate') ?? 500),
        warmupSeconds: Number(args.get('freshness-warmup') ?? 5),
        probes: Number(args.get('freshness-probes') ?? 100),
        probeIntervalMs: Number(args.get('probe-interval') ?? 250),
        pollMs: Number(args.get('poll-ms') ?? 10),
        timeoutMs: 10_000,
      }),
    overload: () =>
      benchOverload({
        natsUrl: nats.url,
        prefix: namespace.prefix,
        postgresUrl: postgres.url,
        runs: RUNS,
        connections: Number(args.get('overload-connections') ?? 200),
        seconds: Number(args.get('overload-seconds') ?? 10),
        cases: OVERLOAD_CASES,
      }),
  };
  const servicePart = serviceParts[args.get('only') ?? ''];
  if (servicePart) {
    try {
      await servicePart();
    } finally {
      await namespace.cleanup();
      await nats.stop();
    }
    return;
  }
  if (args.get('only') === 'segmentation') {
    try {
      await segmentation();
    } finally {
      await namespace.cleanup();
      await nats.stop();
    }
    return;
  }
  print(`ingestion: batches of ${BATCH} events (~${batchTemplate(BATCH).bytesPerEvent} bytes each), ${CONNECTIONS} connections, ${SECONDS} s per run, load from a separate process`);

  const adminKey = randomBytes(24).toString('base64url');
  let ingestion: ServiceProcess | undefined;
  try {
    const raw: number[] = [];
    const accepted: number[] = [];
    const p99: number[] = [];
    const rss: number[] = [];
    let lost = 0;
    for (let run = 1; run <= RUNS; run += 1) {
      raw.push(await rawPublishRate(nats.url, namespace.prefix, run));
      print(`  run ${run}: raw JetStream publish ${fmt(raw[raw.length - 1])} msg/s`);

      ingestion ??= await startServiceProcess({
        app: 'ingestion',
        mode: 'dist',
        env: { NATS_URL: nats.url, NATS_PREFIX: namespace.prefix, DATABASE_URL: postgres.url, DATA_DIR: 'memory://', LOG_LEVEL: 'warn', ADMIN_API_KEY: adminKey },
      });
      const service = ingestion;
      const source = await fetch(`${service.url}/v1/sources`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
        body: JSON.stringify({ name: `bench ${run}` }),
      }).then((r) => r.json() as Promise<{ writeKey: string }>);
      const authorization = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;

      const streamBefore = await streamMessages(nats.url, namespace.prefix);
      let peakRss = 0;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(service.pid))), 250);
      const load = await runLoad(service.url, authorization, `r${run}`);
      clearInterval(sampler);
      const streamAfter = await streamMessages(nats.url, namespace.prefix);
      const eventsAccepted = load.ok * BATCH;
      lost += Math.max(0, eventsAccepted - (streamAfter - streamBefore));
      accepted.push(eventsAccepted / load.durationSeconds);
      p99.push(load.latencyP99);
      rss.push(peakRss);
      print(
        `  run ${run}: ingestion ${fmt(eventsAccepted / load.durationSeconds)} events/s accepted and durable ` +
          `(${fmt(load.requestsPerSecond)} req/s, ${load.notOk} non-2xx, ${load.errors} errors), p50 ${load.latencyP50} ms, p99 ${load.latencyP99} ms, ` +
          `peak RSS ${peakRss.toFixed(0)} MB, on the stream ${fmt(streamAfter - streamBefore)} of ${fmt(eventsAccepted)}`,
      );
    }
    const ratio = median(accepted) / median(raw);
    print('');
    print('| measure | median | target |');
    print('|---|---|---|');
    print(`| raw JetStream publish, same bodies (baseline) | ${fmt(median(raw))} msg/s | |`);
    print(`| ingestion, accepted and durable | ${fmt(median(accepted))} events/s | ≥ 15,000 |`);
    print(`| ingestion / raw | ${(ratio * 100).toFixed(0)} % | ≥ 70 % |`);
    print(`| ingestion p99 request latency (100-event batch) | ${median(p99)} ms | < 100 ms |`);
    print(`| ingestion peak RSS under load | ${median(rss).toFixed(0)} MB | < 300 MB |`);
    print(`| accepted events missing from the stream | ${lost} | 0 |`);
    print('');
    const lastSource = await fetch(`${ingestion!.url}/v1/sources`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ name: 'bench lag' }),
    }).then((r) => r.json() as Promise<{ writeKey: string }>);
    await benchProfiles(nats.url, namespace.prefix, postgres.url, { url: ingestion!.url, authorization: `Basic ${Buffer.from(`${lastSource.writeKey}:`).toString('base64')}` });
    await ingestion?.stop();
    ingestion = undefined;
    if (args.get('only') !== 'ingestion') {
      await segmentation();
      await analytics();
    }
  } finally {
    await ingestion?.stop();
    await namespace.cleanup();
    await nats.stop();
  }
}

const PROFILE_EVENTS = Number(args.get('profile-events') ?? 100000);
const LAG_RATE = Number(args.get('lag-rate') ?? 5000);
const LAG_SECONDS = Number(args.get('lag-seconds') ?? 15);

/**
 * Lag of profiles behind ingestion under a steady offered load: the backlog is dropped (the
 * consumer's floor moves with a purge), then ingestion gets LAG_RATE events/s for LAG_SECONDS
 * while the consumer's pending count is sampled; then the time until it is back to zero.
 */
async function measureLag(natsUrl: string, prefix: string, ingestion: { url: string; authorization: string }) {
  const nc = await connect({ servers: natsUrl });
  const jsm = await nc.jetstreamManager();
  const stream = `${prefix}_EVENTS`;
  const pending = async () => {
    const info = await jsm.consumers.info(stream, 'profiles-events');
    return info.num_pending + info.num_ack_pending;
  };
  try {
    await jsm.streams.purge(stream);
    await waitUntil(async () => (await pending()) === 0, 30_000);
    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await pending());
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    const load = await runLoad(ingestion.url, ingestion.authorization, `lag${Date.now()}`, { requestsPerSecond: LAG_RATE / BATCH, seconds: LAG_SECONDS });
    sampling = false;
    await sampler;
    const end = await pending();
    const started = performance.now();
    await waitUntil(async () => (await pending()) === 0, 300_000);
    return { offered: (load.ok * BATCH) / load.durationSeconds, median: median(samples), max: Math.max(...samples), end, drainMs: performance.now() - started };
  } finally {
    await nc.close();
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Pulls `count` messages of the EVENTS stream with a durable consumer and acks each: the ceiling for any consumer. */
async function rawConsumeRate(natsUrl: string, prefix: string, count: number): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  const jsm = await nc.jetstreamManager();
  const durable = `raw-consume-${randomBytes(3).toString('hex')}`;
  await jsm.consumers.add(`${prefix}_EVENTS`, { durable_name: durable, ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
  const consumer = await nc.jetstream().consumers.get(`${prefix}_EVENTS`, durable);
  const started = performance.now();
  let received = 0;
  const messages = await consumer.consume({ max_messages: 500 });
  for await (const msg of messages) {
    JSON.parse(new TextDecoder().decode(msg.data));
    msg.ack();
    received += 1;
    if (received >= count) break;
  }
  const rate = received / ((performance.now() - started) / 1000);
  await jsm.consumers.delete(`${prefix}_EVENTS`, durable);
  await nc.close();
  return rate;
}

/**
 * Profiles: events applied per second from the stream to committed profiles, identities, event log,
 * features and outbox (a fresh database, the backlog the ingestion runs left), against a raw
 * durable consume of the same messages.
 */
async function benchProfiles(natsUrl: string, prefix: string, postgresUrl: string | undefined, ingestion: { url: string; authorization: string }): Promise<void> {
  const backlog = await streamMessages(natsUrl, prefix);
  const target = Math.min(PROFILE_EVENTS, backlog);
  if (target === 0) return;
  print(`profiles: applying the first ${fmt(target)} of ${fmt(backlog)} events on the stream to a fresh database (${postgresUrl ? 'PostgreSQL' : 'PGlite'})`);
  const raw = await rawConsumeRate(natsUrl, prefix, target);
  print(`  raw durable consume (baseline) ${fmt(raw)} msg/s`);
  const database = await createTestDatabase({ serverUrl: postgresUrl });
  const profiles = await startServiceProcess({
    app: 'profiles',
    mode: 'dist',
    env: { NATS_URL: natsUrl, NATS_PREFIX: prefix, DATABASE_URL: database.url, DATA_DIR: 'memory://', LOG_LEVEL: 'warn', FX_RATES: 'EUR=1.08' },
  });
  const client = database.url ? new Client({ connectionString: database.url }) : undefined;
  try {
    if (!client) {
      print('  (skipped: counting applied events needs a PostgreSQL server)');
      return;
    }
    await client.connect();
    const count = async () => (await client.query('select count(*)::int as n from profiles.events')).rows[0].n as number;
    const samples: Array<{ at: number; n: number }> = [];
    const started = performance.now();
    let peakRss = 0;
    for (;;) {
      const n = await count();
      samples.push({ at: performance.now(), n });
      peakRss = Math.max(peakRss, rssMb(profiles.pid));
      if (n >= target || performance.now() - started > 180_000) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Steady state: from the first sample past 10 % to the first past 90 %.
    const from = samples.find((s) => s.n >= target * 0.1) ?? samples[0];
    const to = samples.find((s) => s.n >= target * 0.9) ?? samples[samples.length - 1];
    const rate = (to.n - from.n) / ((to.at - from.at) / 1000);
    const [{ profiles: profileCount, merged }] = (
      await client.query(`select count(*) filter (where merged_into is null)::int as profiles, count(*) filter (where merged_into is not null)::int as merged from profiles.profiles`)
    ).rows;
    const outbox = (await client.query('select count(*)::int as n from profiles.outbox where published_at is null')).rows[0].n as number;
    print(
      `  profiles applied ${fmt(rate)} events/s (steady state), ${fmt(samples[samples.length - 1].n)} events in ${((samples[samples.length - 1].at - started) / 1000).toFixed(1)} s, ${fmt(profileCount)} profiles, ${fmt(merged)} merged, outbox left ${outbox}, peak RSS ${peakRss.toFixed(0)} MB`,
    );
    const lag = await measureLag(natsUrl, prefix, ingestion);
    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| raw durable consume, same messages (baseline) | ${fmt(raw)} msg/s | |`);
    print(`| profiles: events applied (stream → committed profile, features, PROFILES published) | ${fmt(rate)} events/s | ≥ 5,000 |`);
    print(`| profiles / raw consume | ${((rate / raw) * 100).toFixed(0)} % | |`);
    print(
      `| profiles lag at ${fmt(lag.offered)} events/s offered to ingestion for ${LAG_SECONDS} s: median / max / at the end | ${fmt(lag.median)} / ${fmt(lag.max)} / ${fmt(lag.end)} events | bounded |`,
    );
    print(`| time to catch up after the load stopped | ${(lag.drainMs / 1000).toFixed(1)} s | |`);
  } finally {
    await client?.end();
    await profiles.stop();
    await database.drop();
  }
}

async function streamMessages(natsUrl: string, prefix: string): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    return (await jsm.streams.info(`${prefix}_EVENTS`)).state.messages;
  } finally {
    await nc.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
