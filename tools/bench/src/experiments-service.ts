import { randomUUID } from 'node:crypto';
import { JSONCodec, StorageType, connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { SUBJECTS, type OfferServedV1, type ProfileActivityV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import type { ServiceProcess } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { UNPROTECTED_ENV, startBenchService } from './bench-service';
import { benchProfileId } from './bench-ids';
import { processCpuSeconds } from './process-cpu';
import { runOffersLoad, type OffersLoadResult } from './offers';
import { serviceApi } from './realtime';
import { fmt, median, print } from './report';

export interface ExperimentsServiceBenchOptions {
  natsUrl: string;
  postgresUrl?: string;
  runs: number;
  /** Length of each HTTP load. */
  seconds: number;
  /** HTTP load connections. */
  connections: number;
  /** Customers in the HTTP experiment's targeted segment: the ids first exposures are drawn from, each once. */
  audience: number;
  /** Exposures (offers.served), then as many conversions (profiles.activity), per run of the aggregates bench. */
  events: number;
  /** Exposures written straight into the results experiment's raw tables (0 skips the results bench). */
  exposures: number;
  /** Customers of the programme holdout written straight into its raw tables (0 skips the programme lift bench). */
  programmeCustomers: number;
}

const TARGET_ASSIGNMENTS_PER_SECOND = 5_000;
const TARGET_ASSIGNMENT_P99_MS = 20;
const TARGET_RESULTS_SECONDS = 1;
const TARGET_EVENTS_PER_SECOND = 10_000;
const SEGMENTS = 30;
const segmentKey = (s: number) => `bench-seg-${s}`;
const AUDIENCE_SEGMENT = 'bench-audience';

/** Three variants by weight, and the metrics of the results and aggregates benches. */
const VARIANTS = [
  { key: 'control', name: 'Control', weight: 0.34, offers: ['bench-plain'] },
  { key: 'ten-off', name: '10 % off', weight: 0.33, offers: ['bench-ten-off'] },
  { key: 'free-shipping', name: 'Free shipping', weight: 0.33, offers: ['bench-free-shipping'] },
];
const METRICS = [
  { key: 'orders', type: 'conversion', event: 'Order Completed', days: 14 },
  { key: 'revenue', type: 'revenue', days: 14 },
];
/** The aggregate row every experiment has that counts exposures alone (experiments' EXPOSURES_METRIC). */
const EXPOSURES_METRIC = '_exposures';

/** Disjoint seeded-id ranges, so one part's customers never carry another part's exposures. */
const HTTP_IDS_FROM = 0;
const AGGREGATES_IDS_FROM = 100_000_000;
const RESULTS_IDS_FROM = 1_000_000_000;
const PROGRAMME_IDS_FROM = 2_000_000_000;

const codec = JSONCodec();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Envelopes encoded up front, so a timed publish measures publishing alone. */
function encodeAll(type: string, items: unknown[]): Uint8Array[] {
  return items.map((data) => codec.encode(createEnvelope(type, data)));
}

/** JetStream publishes with up to 1,000 acks outstanding (as the journeys bench publishes); body i made when it is due. */
async function publishAll(nc: NatsConnection, subject: string, count: number, bodyOf: (i: number) => Uint8Array): Promise<void> {
  const js = nc.jetstream();
  for (let i = 0; i < count; i += 1000) await Promise.all(Array.from({ length: Math.min(1000, count - i) }, (_, j) => js.publish(subject, bodyOf(i + j))));
}

async function createRunningExperiment(service: ServiceProcess, adminKey: string, key: string, targeting: { segments: string[]; trafficShare: number }): Promise<void> {
  await serviceApi(service, adminKey, 'POST', '/v1/experiments', {
    key,
    name: `Bench ${key}`,
    definition: { hypothesis: 'Bench', targeting: { ...targeting, placement: 'checkout' }, variants: VARIANTS, metrics: METRICS },
  });
  await serviceApi(service, adminKey, 'POST', `/v1/experiments/${key}/status`, { status: 'running' });
}

/** Asks (expose: false) until the customer is in the experiment: it runs and their memberships have been applied, however the service keeps them. */
async function untilInExperiment(service: ServiceProcess, adminKey: string, key: string, profileId: string, timeoutMs = 300_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const answer = (await serviceApi(service, adminKey, 'POST', `/v1/experiments/${key}/assignments`, { profileId, expose: false })) as { inExperiment: boolean; reason: string | null };
    if (answer.inExperiment) return;
    assertAlive(service);
    if (performance.now() > deadline) throw new Error(`${profileId} is still not in ${key} after ${timeoutMs / 1000} s: ${answer.reason}`);
    await sleep(250);
  }
}

/** Seeded customers `from`…`from + count - 1` enter a segment each through segments.entered (the service's own way in). */
async function enterSegments(nc: NatsConnection, prefix: string, from: number, count: number, segmentOf: (i: number) => string): Promise<void> {
  const segmentIds = new Map<string, string>();
  const at = new Date().toISOString();
  await publishAll(nc, `${prefix}.${SUBJECTS.segmentsEntered}`, count, (i) => {
    const segment = segmentOf(from + i);
    if (!segmentIds.has(segment)) segmentIds.set(segment, randomUUID());
    const data: SegmentMembershipChangedV1 = {
      seq: i + 1,
      segmentId: segmentIds.get(segment) as string,
      segmentKey: segment,
      segmentVersion: 1,
      profileId: benchProfileId(from + i),
      change: 'entered',
      at,
    };
    return codec.encode(createEnvelope(SUBJECTS.segmentsEntered, data));
  });
}

/**
 * Experiments as a service (issue 21), on one experiments process from `dist/` with a database and
 * NATS prefix of its own: the HTTP assignment route under load, the aggregates' event rate, then
 * the results of `exposures` exposures from the aggregates against a full scan of the raw rows.
 */
export async function benchExperimentsService(options: ExperimentsServiceBenchOptions): Promise<void> {
  if (!options.postgresUrl) {
    print('experiments service: skipped (needs a PostgreSQL server; set DATABASE_URL)');
    return;
  }
  const bench = await startBenchService({ app: 'experiments', natsUrl: options.natsUrl, postgresUrl: options.postgresUrl, label: 'bench-exp', env: UNPROTECTED_ENV });
  const client = new Client({ connectionString: bench.databaseUrl });
  const nc = await connect({ servers: options.natsUrl });
  try {
    await client.connect();
    const context = { ...options, service: bench.service, adminKey: bench.adminKey, prefix: bench.prefix, client, nc };
    if (options.audience > 0) await benchAssignmentRoute(context);
    if (options.events > 0) await benchAggregatesThroughput(context);
    if (options.exposures > 0) await benchResults(context);
    if (options.programmeCustomers > 0) await benchProgrammeLift(context);
  } catch (error) {
    // What the service logged last tells a crash or a stall of the service from one of the bench.
    print(`  the experiments service's last log lines:\n${bench.service.output.slice(-20).join('\n')}`);
    throw error;
  } finally {
    await nc.close().catch(() => undefined);
    await client.end().catch(() => undefined);
    await bench.stop();
  }
}

type Context = ExperimentsServiceBenchOptions & { service: ServiceProcess; adminKey: string; prefix: string; client: Client; nc: NatsConnection };

/** CPU seconds so far of the service process and of the PostgreSQL backends serving its database (this bench's own connection left out). */
async function readCpu(context: Context): Promise<{ service: number | undefined; backends: Map<number, number> }> {
  const { rows } = await context.client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
  const backends = new Map<number, number>();
  for (const { pid } of rows) {
    const seconds = processCpuSeconds(pid);
    if (seconds !== undefined) backends.set(pid, seconds);
  }
  return { service: processCpuSeconds(context.service.pid), backends };
}

/**
 * CPU milliseconds per unit of work between two readings: the service's, and its database's
 * (backends that ended in between are missed; the service's pool keeps its connections). These do
 * not depend on how busy the shared machine was.
 */
function cpuPer(before: Awaited<ReturnType<typeof readCpu>>, after: Awaited<ReturnType<typeof readCpu>>, units: number): { service: number; database: number } {
  let database = 0;
  for (const [pid, seconds] of after.backends) database += seconds - (before.backends.get(pid) ?? 0);
  const service = after.service !== undefined && before.service !== undefined ? after.service - before.service : NaN;
  return { service: (service * 1000) / units, database: (database * 1000) / units };
}

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

/** The count once it stopped moving for half a second. */
async function settledExposureCount(client: Client, key: string): Promise<number> {
  let last = await exposureCount(client, key);
  for (;;) {
    await sleep(500);
    const now = await exposureCount(client, key);
    if (now === last) return now;
    last = now;
  }
}

async function exposureCount(client: Client, key: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>('select count(*)::int as n from experiments.exposures where experiment_id = (select id from experiments.experiments where key = $1)', [key]);
  return rows[0].n;
}

/**
 * 1. `POST /v1/experiments/:key/assignments` from a separate load process (autocannon) on a running
 * experiment of 3 variants targeting one segment that `audience` customers entered: first
 * exposures (each request a customer never asked before: a write), repeat customers (random ones
 * already exposed: the stored variant is read back), and asking only (`expose: false`), against the
 * same app's `GET /health` in the same run.
 */
async function benchAssignmentRoute(context: Context): Promise<void> {
  const { service, adminKey, prefix, client, nc } = context;
  const key = 'bench-assignment';
  const entering = performance.now();
  await enterSegments(nc, prefix, HTTP_IDS_FROM, context.audience, () => AUDIENCE_SEGMENT);
  await createRunningExperiment(service, adminKey, key, { segments: [AUDIENCE_SEGMENT], trafficShare: 1 });
  await untilInExperiment(service, adminKey, key, benchProfileId(HTTP_IDS_FROM + context.audience - 1));
  print('');
  print(
    `experiments, HTTP assignment: ${fmt(context.audience)} customers entered the targeted segment in ${((performance.now() - entering) / 1000).toFixed(1)} s; 3 variants, ` +
      `${context.connections} connections, ${context.seconds} s per load, ${context.runs} runs`,
  );
  // The admin key, as the offers bench uses (keys of scope personalize are made by ingestion, not running here).
  const authorization = `Bearer ${adminKey}`;
  const path = `/v1/experiments/${key}/assignments`;
  const load = { connections: context.connections, seconds: context.seconds };
  type Measured = OffersLoadResult & { cpu: { service: number; database: number } };
  const measured = async (run: () => Promise<OffersLoadResult>): Promise<Measured> => {
    const before = await readCpu(context);
    const result = await run();
    return { ...result, cpu: cpuPer(before, await readCpu(context), result.requestsTotal) };
  };
  const hello: Measured[] = [];
  const first: Measured[] = [];
  const repeat: Measured[] = [];
  const asking: Measured[] = [];
  let nextFresh = HTTP_IDS_FROM;
  let missingExposures = 0;
  for (let run = 1; run <= context.runs; run += 1) {
    hello.push(await measured(() => runOffersLoad(service.url, '/health', authorization, { ...load, profiles: 1 })));
    const before = await exposureCount(client, key);
    const fresh = await measured(() => runOffersLoad(service.url, path, authorization, { ...load, profiles: 0, body: '{"profileId":"{p}"}', distinctFrom: nextFresh }));
    first.push(fresh);
    nextFresh = fresh.nextDistinct ?? nextFresh;
    if (nextFresh > HTTP_IDS_FROM + context.audience) print(`  (the first exposures ran past the ${fmt(context.audience)} customers of the segment: raise --assignment-customers)`);
    // The requests still in flight when the load stopped finish first.
    const written = (await settledExposureCount(client, key)) - before;
    missingExposures += Math.max(0, fresh.ok - written);
    // Customers already exposed (the last `connections` ids may still have been in flight when the load stopped).
    const exposed = Math.max(1, Math.min(nextFresh, HTTP_IDS_FROM + context.audience) - HTTP_IDS_FROM - context.connections);
    repeat.push(await measured(() => runOffersLoad(service.url, path, authorization, { ...load, profiles: exposed, body: '{"profileId":"{p}"}' })));
    asking.push(await measured(() => runOffersLoad(service.url, path, authorization, { ...load, profiles: context.audience, body: '{"profileId":"{p}","expose":false}' })));
    const unchanged = (await exposureCount(client, key)) - before - written;
    const [h, f, r, a] = [hello, first, repeat, asking].map((results) => results[results.length - 1]);
    const line = (name: string, x: Measured) =>
      `${name} ${fmt(x.requestsPerSecond)} req/s, p50 ${x.latencyP50} ms, p99 ${x.latencyP99} ms, CPU ${ms(x.cpu.service)} + ${ms(x.cpu.database)} ms${x.notOk + x.errors > 0 ? ` (${x.notOk} not 2xx, ${x.errors} errors)` : ''}`;
    print(
      `  run ${run}: ${line('GET /health', h)}; ${line('first exposures', f)}, ${fmt(written)} exposures written for ${fmt(f.ok)} answers; ` +
        `${line('repeat customers', r)}; ${line('expose: false', a)}; exposures written by the repeat and asking loads: ${unchanged}`,
    );
  }
  const rps = (results: Measured[]) => median(results.map((r) => r.requestsPerSecond));
  const p = (results: Measured[], q: 'latencyP50' | 'latencyP99') => median(results.map((r) => r[q]));
  const cpu = (results: Measured[]) => `${ms(median(results.map((r) => r.cpu.service)))} / ${ms(median(results.map((r) => r.cpu.database)))} ms`;
  print('');
  print('| measure | value | target |');
  print('|---|---|---|');
  print(`| GET /health of the same app (baseline, median of ${context.runs}) | ${fmt(rps(hello))} req/s | |`);
  print(`| POST /v1/experiments/:key/assignments, first exposures (median) | ${fmt(rps(first))} req/s | ≥ ${fmt(TARGET_ASSIGNMENTS_PER_SECOND)} |`);
  print(`| its p50 / p99, ${context.connections} connections | ${p(first, 'latencyP50')} / ${p(first, 'latencyP99')} ms | p99 < ${TARGET_ASSIGNMENT_P99_MS} ms |`);
  print(
    `| repeat customers (already exposed) | ${fmt(rps(repeat))} req/s, p50 / p99 ${p(repeat, 'latencyP50')} / ${p(repeat, 'latencyP99')} ms | ≥ ${fmt(TARGET_ASSIGNMENTS_PER_SECOND)}, p99 < ${TARGET_ASSIGNMENT_P99_MS} ms |`,
  );
  print(`| asking only (expose: false) | ${fmt(rps(asking))} req/s, p50 / p99 ${p(asking, 'latencyP50')} / ${p(asking, 'latencyP99')} ms | |`);
  print(`| first exposures / hello world | ${((rps(first) / rps(hello)) * 100).toFixed(0)} % | |`);
  print(`| CPU per request, service / its database's PostgreSQL backends: GET /health; first exposures; repeat; expose: false | ${cpu(hello)}; ${cpu(first)}; ${cpu(repeat)}; ${cpu(asking)} | |`);
  print(`| 2xx first-exposure answers without an exposure row | ${missingExposures} | 0 |`);
}

/** The aggregates' totals the service keeps for everyone (segment ''): exposures, conversions and revenue. */
async function totals(client: Client, experimentId: string): Promise<{ exposures: number; orders: number; revenue: number }> {
  const { rows } = await client.query<{ exposures: number; orders: number; revenue: number }>(
    `select coalesce(sum(n) filter (where metric_key = $2), 0)::float8 as exposures, coalesce(sum(sum_y) filter (where metric_key = 'orders'), 0)::float8 as orders,
       coalesce(sum(sum_y) filter (where metric_key = 'revenue'), 0)::float8 as revenue
     from experiments.aggregates where experiment_id = $1 and segment_key = ''`,
    [experimentId, EXPOSURES_METRIC],
  );
  return rows[0];
}

/** Throws with what the service said last when its process is gone (a wait for it would only time out). */
function assertAlive(service: ServiceProcess): void {
  try {
    process.kill(service.pid, 0);
  } catch {
    throw new Error(`the ${service.name} process ${service.pid} is gone; its last log lines:\n${service.output.slice(-20).join('\n')}`);
  }
}

async function secondsUntil(service: ServiceProcess, check: () => Promise<boolean>, started: number, what: string, timeoutMs = 600_000): Promise<number> {
  for (;;) {
    if (await check()) return (performance.now() - started) / 1000;
    assertAlive(service);
    if (performance.now() > started + timeoutMs) throw new Error(`${what}: not there after ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/**
 * 3. The streaming aggregates' event rate: per run, `events` new customers (each in one of 30
 * segments) are exposed through `offers.served`, timed from the first publish until the
 * aggregates count them all; then one `Order Completed` each through `profiles.activity` (a
 * conversion exposures must come before), timed until the orders and revenue sums hold all of
 * them. Baseline: the same exposure bodies published to a stream no one reads, in the same run.
 */
async function benchAggregatesThroughput(context: Context): Promise<void> {
  const { service, adminKey, prefix, client, nc } = context;
  const key = 'bench-aggregates';
  const total = context.events * context.runs;
  const entering = performance.now();
  await enterSegments(nc, prefix, AGGREGATES_IDS_FROM, total, (i) => segmentKey(i % SEGMENTS));
  await createRunningExperiment(service, adminKey, key, { segments: Array.from({ length: SEGMENTS }, (_, s) => segmentKey(s)), trafficShare: 1 });
  await untilInExperiment(service, adminKey, key, benchProfileId(AGGREGATES_IDS_FROM + total - 1));
  const experimentId = (await client.query<{ id: string }>('select id from experiments.experiments where key = $1', [key])).rows[0].id;
  // A stream of the service's prefix (dropped with it) that no consumer reads: the publish rate alone.
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: `${prefix}_BENCH_BASELINE`, subjects: [`${prefix}.bench-baseline.>`], storage: StorageType.File });
  print('');
  print(
    `experiments, aggregates: ${fmt(context.events)} exposures (offers.served) then ${fmt(context.events)} conversions (profiles.activity) per run, ` +
      `${fmt(total)} customers in ${SEGMENTS} segments entered in ${((performance.now() - entering) / 1000).toFixed(1)} s; 3 variants, 2 metrics; ${context.runs} runs`,
  );
  const publishRates: number[] = [];
  const exposureRates: number[] = [];
  const conversionRates: number[] = [];
  const combinedRates: number[] = [];
  const exposureCpu: Array<{ service: number; database: number }> = [];
  const conversionCpu: Array<{ service: number; database: number }> = [];
  for (let run = 0; run < context.runs; run += 1) {
    const from = AGGREGATES_IDS_FROM + run * context.events;
    const exposedAt = new Date().toISOString();
    const served: OfferServedV1[] = Array.from({ length: context.events }, (_, i) => {
      const profileId = benchProfileId(from + i);
      return {
        servedId: randomUUID(),
        profileId,
        identifier: { kind: 'profile_id', value: profileId },
        placement: 'checkout',
        offers: [],
        experiments: [{ experimentId, key, variant: VARIANTS[i % VARIANTS.length].key }],
        at: exposedAt,
      };
    });
    const servedBodies = encodeAll(SUBJECTS.offersServed, served);
    const baselineStarted = performance.now();
    await publishAll(nc, `${prefix}.bench-baseline.offers-served`, servedBodies.length, (i) => servedBodies[i]);
    publishRates.push(context.events / ((performance.now() - baselineStarted) / 1000));

    const before = await totals(client, experimentId);
    const cpuBefore = await readCpu(context);
    const exposing = performance.now();
    await publishAll(nc, `${prefix}.${SUBJECTS.offersServed}`, servedBodies.length, (i) => servedBodies[i]);
    const exposureSeconds = await secondsUntil(service, async () => (await totals(client, experimentId)).exposures >= before.exposures + context.events, exposing, 'the exposures in the aggregates');
    exposureRates.push(context.events / exposureSeconds);
    const cpuExposed = await readCpu(context);
    exposureCpu.push(cpuPer(cpuBefore, cpuExposed, context.events));

    // Whole amounts: their sums are exact in double precision, so the check can be equality.
    const revenueOf = (i: number) => 10 + ((i * 7919) % 500);
    const occurredAt = new Date().toISOString();
    const activity: ProfileActivityV1[] = Array.from({ length: context.events }, (_, i) => ({
      profileId: benchProfileId(from + i),
      eventId: randomUUID(),
      type: 'track',
      name: 'Order Completed',
      properties: { revenue: revenueOf(i), currency: 'EUR' },
      traits: {},
      occurredAt,
    }));
    const revenue = activity.reduce((sum, _, i) => sum + revenueOf(i), 0);
    const activityBodies = encodeAll(SUBJECTS.profilesActivity, activity);
    const converting = performance.now();
    await publishAll(nc, `${prefix}.${SUBJECTS.profilesActivity}`, activityBodies.length, (i) => activityBodies[i]);
    const conversionSeconds = await secondsUntil(
      service,
      async () => {
        const now = await totals(client, experimentId);
        return now.orders >= before.orders + context.events && now.revenue >= before.revenue + revenue;
      },
      converting,
      'the conversions in the aggregates',
    );
    conversionRates.push(context.events / conversionSeconds);
    conversionCpu.push(cpuPer(cpuExposed, await readCpu(context), context.events));
    combinedRates.push((2 * context.events) / (exposureSeconds + conversionSeconds));
    const after = await totals(client, experimentId);
    const exact = after.exposures === before.exposures + context.events && after.orders === before.orders + context.events && after.revenue === before.revenue + revenue;
    print(
      `  run ${run + 1}: publish alone ${fmt(publishRates[run])} msg/s; exposures in the aggregates in ${exposureSeconds.toFixed(1)} s (${fmt(exposureRates[run])}/s); ` +
        `conversions in ${conversionSeconds.toFixed(1)} s (${fmt(conversionRates[run])}/s); both ${fmt(combinedRates[run])} events/s; sums ${exact ? 'exact' : `OFF: ${JSON.stringify({ before, after, revenue })}`}; ` +
        `CPU per exposure ${ms(exposureCpu[run].service)} + ${ms(exposureCpu[run].database)} ms, per conversion ${ms(conversionCpu[run].service)} + ${ms(conversionCpu[run].database)} ms (service + database)`,
    );
    if (!exact) throw new Error('the aggregates do not hold exactly the events sent');
  }
  print('');
  print('| measure | value | target |');
  print('|---|---|---|');
  print(`| the same offers.served bodies published to a stream no one reads (baseline, median of ${context.runs}) | ${fmt(median(publishRates))} msg/s | |`);
  print(`| exposures (offers.served) until in the aggregates, per s (median) | ${fmt(median(exposureRates))} | ≥ ${fmt(TARGET_EVENTS_PER_SECOND)} |`);
  print(`| conversions (profiles.activity, Order Completed) until in the aggregates, per s (median) | ${fmt(median(conversionRates))} | ≥ ${fmt(TARGET_EVENTS_PER_SECOND)} |`);
  print(`| both, events per s (median) | ${fmt(median(combinedRates))} | ≥ ${fmt(TARGET_EVENTS_PER_SECOND)} |`);
  print(`| exposures / publish alone | ${((median(exposureRates) / median(publishRates)) * 100).toFixed(0)} % | |`);
  const cpu = (values: Array<{ service: number; database: number }>) => `${ms(median(values.map((v) => v.service)))} / ${ms(median(values.map((v) => v.database)))} ms`;
  print(`| CPU per event, service / its database's PostgreSQL backends: exposure; conversion | ${cpu(exposureCpu)}; ${cpu(conversionCpu)} | |`);
}

/**
 * 2. Results from the aggregates against a full scan: `exposures` exposures of a running
 * experiment (3 variants by weight, each customer in 1 of 30 segments or 2, half with a covariate,
 * about 11 % converting with an order's revenue) written straight into its raw tables; the
 * baseline computes every aggregate (n, Σy, Σy², Σx, Σx², Σxy per variant × segment × metric) from
 * those rows and writes them, which also fills the aggregates the service reads. Then
 * `GET /v1/experiments/:key/results?by=segment` over HTTP, its exposure counts checked against the
 * raw rows.
 */
/** What a results bench reads: an experiment filled with `exposures` raw rows, its variants' shares and planted rates, its metrics' values. */
interface ResultsSubject {
  title: string;
  /** The route timed, answering from the aggregates. */
  route: string;
  target: string;
  experimentId: string;
  exposures: number;
  idsFrom: number;
  variants: Array<{ key: string; share: number; conversion: number; rewarded: boolean }>;
  /** order: 1 for a converter; revenue: the order's amount; net: the amount less a 10 % reward where rewarded; retained: 1 for 40 % of converters. */
  metrics: Array<{ key: string; value: 'order' | 'revenue' | 'net' | 'retained' }>;
}

/** Results of 10,000,000 exposures × 3 variants × 30 segments (issue 21). */
async function benchResults(context: Context): Promise<void> {
  const key = 'bench-results';
  await createRunningExperiment(context.service, context.adminKey, key, { segments: [], trafficShare: 1 });
  const experimentId = (await context.client.query<{ id: string }>('select id from experiments.experiments where key = $1', [key])).rows[0].id;
  await benchResultsOf(context, {
    title: `experiments, results: ${fmt(context.exposures)} exposures (3 variants, ${SEGMENTS} segments, 2 metrics) written into the raw tables`,
    route: `/v1/experiments/${key}/results?by=segment`,
    target: `< ${TARGET_RESULTS_SECONDS} s`,
    experimentId,
    exposures: context.exposures,
    idsFrom: RESULTS_IDS_FROM,
    variants: [
      { key: 'control', share: 0.34, conversion: 0.1, rewarded: false },
      { key: 'ten-off', share: 0.33, conversion: 0.12, rewarded: true },
      { key: 'free-shipping', share: 0.33, conversion: 0.11, rewarded: true },
    ],
    metrics: [
      { key: 'orders', value: 'order' },
      { key: 'revenue', value: 'revenue' },
    ],
  });
}

/** The programme's lift by segment over `programmeCustomers` customers with 5 % held out (issue 22). */
async function benchProgrammeLift(context: Context): Promise<void> {
  await serviceApi(context.service, context.adminKey, 'PUT', '/v1/programme/holdout', { share: 0.05 });
  const experimentId = (await context.client.query<{ id: string }>(`select id from experiments.experiments where kind = 'holdout'`)).rows[0].id;
  await benchResultsOf(context, {
    title: `programme lift: ${fmt(context.programmeCustomers)} customers, 5 % held out, ${SEGMENTS} segments, 4 metrics written into the raw tables`,
    route: '/v1/programme/lift?by=segment',
    target: `< ${TARGET_RESULTS_SECONDS} s`,
    experimentId,
    exposures: context.programmeCustomers,
    idsFrom: PROGRAMME_IDS_FROM,
    variants: [
      { key: 'holdout', share: 0.05, conversion: 0.1, rewarded: false },
      { key: 'treated', share: 0.95, conversion: 0.12, rewarded: true },
    ],
    metrics: [
      { key: 'orders', value: 'order' },
      { key: 'revenue', value: 'revenue' },
      { key: 'net-revenue', value: 'net' },
      { key: 'retention', value: 'retained' },
    ],
  });
}

async function benchResultsOf(context: Context, subject: ResultsSubject): Promise<void> {
  const { service, adminKey, client } = context;
  const { experimentId } = subject;
  print('');
  print(subject.title);
  const chunk = 1_000_000;
  const filling = performance.now();
  let upTo = 0;
  const variantCase = `case ${subject.variants.map((v) => `when v < ${(upTo += v.share).toFixed(6)} then '${v.key}'`).join(' ')} else '${subject.variants[subject.variants.length - 1].key}' end`;
  const conversionCase = `case variant ${subject.variants.map((v) => `when '${v.key}' then ${v.conversion}`).join(' ')} end`;
  const rewardedCase = `case variant ${subject.variants.map((v) => `when '${v.key}' then ${v.rewarded}`).join(' ')} end`;
  const valueOf: Record<ResultsSubject['metrics'][number]['value'], string> = {
    order: '1',
    revenue: 'revenue',
    net: 'case when rewarded then revenue * 0.9 else revenue end',
    retained: 'case when retained then 1 else 0 end',
  };
  const metricValues = `(values ${subject.metrics.map((m) => `('${m.key}', '${m.value}')`).join(', ')}) m(metric_key, kind)`;
  const valueCase = `case m.kind ${subject.metrics.map((m) => `when '${m.value}' then ${valueOf[m.value]}`).join(' ')} end`;
  for (let done = 0; done < subject.exposures; done += chunk) {
    const size = Math.min(chunk, subject.exposures - done);
    // Random draws in a subquery, so that each row gets its own; sequential ids keep the indexes' inserts local.
    await client.query(
      `with drawn as (
         select i, random() as v, floor(random() * ${SEGMENTS})::int as s, random() < 0.3 as two, floor(random() * ${SEGMENTS - 1})::int as other, random() < 0.5 as known, floor(random() * 500) as x
         from generate_series($2::bigint, $3::bigint) i
       ), fresh as (
         insert into experiments.exposures (experiment_id, profile_id, variant, first_exposed_at, source, covariate, segments)
         select $1, ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, ${variantCase},
           now() - interval '7 days' + (i % 604800) * interval '1 second', 'offers',
           case when known then x end,
           case when two then jsonb_build_array('bench-seg-' || s, 'bench-seg-' || ((s + 1 + other) % ${SEGMENTS})) else jsonb_build_array('bench-seg-' || s) end
         from drawn
         returning profile_id, variant
       ), converted as (
         select profile_id, floor(10 + random() * 500)::float8 as revenue, ${rewardedCase} as rewarded, random() < 0.4 as retained from fresh
         where random() < ${conversionCase}
       )
       insert into experiments.metric_values (experiment_id, profile_id, metric_key, value)
       select $1, profile_id, m.metric_key, ${valueCase} from converted cross join ${metricValues}`,
      [experimentId, subject.idsFrom + done, subject.idsFrom + done + size - 1],
    );
    const seconds = (performance.now() - filling) / 1000;
    print(`  filled ${fmt(done + size)} of ${fmt(subject.exposures)} exposures in ${seconds.toFixed(0)} s (${fmt((done + size) / seconds)}/s)`);
  }
  const vacuuming = performance.now();
  // Hint bits and statistics set once, so that no timed scan pays for them.
  await client.query('vacuum analyze experiments.exposures, experiments.metric_values');
  const converters = (
    await client.query<{ n: number }>(`select count(*)::int as n from experiments.metric_values where experiment_id = $1 and metric_key = $2`, [experimentId, subject.metrics[0].key])
  ).rows[0].n;
  print(`  vacuum analyze ${((performance.now() - vacuuming) / 1000).toFixed(0)} s; ${fmt(converters)} customers converted`);

  const metricKeys = subject.metrics.map((m) => m.key);
  const scanSeconds: number[] = [];
  for (let run = 1; run <= context.runs; run += 1) {
    scanSeconds.push(await fullScan(client, experimentId, metricKeys));
    print(`  run ${run}: full scan of the raw rows into the aggregates ${scanSeconds[run - 1].toFixed(1)} s`);
  }
  const raw = await rawExposureCounts(client, experimentId);
  const resultsSeconds: number[] = [];
  let countsMatch = true;
  for (let call = 1; call <= Math.max(5, context.runs); call += 1) {
    const started = performance.now();
    const response = await fetch(`${service.url}${subject.route}`, { headers: { authorization: `Bearer ${adminKey}` } });
    const answer = (await response.json()) as ResultsAnswer;
    resultsSeconds.push((performance.now() - started) / 1000);
    if (!response.ok) throw new Error(`GET ${subject.route}: ${response.status} ${JSON.stringify(answer)}`);
    const mismatches = countMismatches(answer, raw, subject.variants);
    if (mismatches.length > 0) {
      countsMatch = false;
      print(`  call ${call}: exposure counts differ from the raw rows: ${mismatches.slice(0, 5).join('; ')}${mismatches.length > 5 ? ` (${mismatches.length} in all)` : ''}`);
    }
  }
  print(`  GET ${subject.route}: ${resultsSeconds.map((s) => `${(s * 1000).toFixed(0)} ms`).join(', ')}`);
  const scan = median(scanSeconds);
  const results = median(resultsSeconds);
  print('');
  print('| measure | value | target |');
  print('|---|---|---|');
  print(`| full scan of ${fmt(subject.exposures)} exposures into every aggregate (baseline, median of ${context.runs}) | ${scan.toFixed(1)} s | |`);
  print(`| GET ${subject.route.split('?')[0]} by segment from the aggregates (median of ${resultsSeconds.length}) | ${(results * 1000).toFixed(0)} ms | ${subject.target} |`);
  print(`| full scan / results | ${fmt(scan / results)}× | |`);
  print(`| exposure counts of the answer (per variant, everyone and each of ${raw.segments} segments) = the raw rows' | ${countsMatch ? 'yes' : 'NO'} | yes |`);
}

/**
 * The baseline: every aggregate computed from the raw rows in one pass (each customer's metric
 * values joined to their exposure, then summed per variant × segment), then written. PostgreSQL
 * gets the memory to hash and may scan in parallel (the SELECT alone: an INSERT … SELECT is never
 * parallel).
 */
async function fullScan(client: Client, experimentId: string, metricKeys: string[]): Promise<number> {
  const started = performance.now();
  await client.query(`set work_mem = '256MB'`);
  const metricColumns = metricKeys.map((_, m) => `coalesce(v.y${m}, 0) as y${m}`).join(', ');
  const metricPivot = metricKeys.map((metric, m) => `sum(value) filter (where metric_key = '${metric}') as y${m}`).join(', ');
  const metricSums = metricKeys.map((_, m) => `sum(y${m}) as sy${m}, sum(y${m} * y${m}) as sy2${m}, sum(cx * y${m}) as sxy${m}`).join(', ');
  const { rows } = await client.query<Record<string, string | number>>(
    `with per_customer as (
       select x.variant, x.segments, coalesce(x.covariate, 0) as cx, ${metricColumns}
       from experiments.exposures x
       left join (select profile_id, ${metricPivot} from experiments.metric_values where experiment_id = $1 group by profile_id) v on v.profile_id = x.profile_id
       where x.experiment_id = $1
     )
     select variant, s.segment_key, count(*)::float8 as n, sum(cx) as sx, sum(cx * cx) as sx2, ${metricSums}
     from per_customer cross join lateral (select '' as segment_key union all select jsonb_array_elements_text(per_customer.segments)) s
     group by 1, 2`,
    [experimentId],
  );
  await client.query('reset work_mem');
  const aggregates = rows.flatMap((r) => [
    { variant: r.variant, segmentKey: r.segment_key, metricKey: EXPOSURES_METRIC, n: r.n, sumY: 0, sumY2: 0, sumX: r.sx, sumX2: r.sx2, sumXY: 0 },
    ...metricKeys.map((metric, m) => ({
      variant: r.variant,
      segmentKey: r.segment_key,
      metricKey: metric,
      n: r.n,
      sumY: r[`sy${m}`],
      sumY2: r[`sy2${m}`],
      sumX: r.sx,
      sumX2: r.sx2,
      sumXY: r[`sxy${m}`],
    })),
  ]);
  await client.query(
    `insert into experiments.aggregates (experiment_id, variant, segment_key, metric_key, n, sum_y, sum_y2, sum_x, sum_x2, sum_xy)
     select $1, a.variant, a."segmentKey", a."metricKey", a.n, a."sumY", a."sumY2", a."sumX", a."sumX2", a."sumXY"
     from json_to_recordset($2::json) as a(variant text, "segmentKey" text, "metricKey" text, n bigint, "sumY" float8, "sumY2" float8, "sumX" float8, "sumX2" float8, "sumXY" float8)
     on conflict (experiment_id, variant, segment_key, metric_key) do update set n = excluded.n, sum_y = excluded.sum_y, sum_y2 = excluded.sum_y2,
       sum_x = excluded.sum_x, sum_x2 = excluded.sum_x2, sum_xy = excluded.sum_xy`,
    [experimentId, JSON.stringify(aggregates)],
  );
  return (performance.now() - started) / 1000;
}

interface ResultsAnswer {
  srm: { users: Record<string, number> };
  metrics: Array<{ key: string; segments: Array<{ segment: string | null; variants: Array<{ key: string; n: number }> }> }>;
}

/** Exposures per variant for everyone ('') and per segment, counted from the raw rows. */
async function rawExposureCounts(client: Client, experimentId: string): Promise<{ counts: Map<string, number>; segments: number }> {
  const { rows } = await client.query<{ variant: string; segment_key: string; n: number }>(
    `select variant, '' as segment_key, count(*)::int as n from experiments.exposures where experiment_id = $1 group by 1
     union all
     select variant, s.segment_key, count(*)::int from experiments.exposures, jsonb_array_elements_text(segments) s(segment_key) where experiment_id = $1 group by 1, 2`,
    [experimentId],
  );
  return { counts: new Map(rows.map((r) => [`${r.variant}/${r.segment_key}`, r.n])), segments: new Set(rows.map((r) => r.segment_key).filter((s) => s !== '')).size };
}

/** Where the answer's exposure counts (the sample-ratio check's users, each metric's n per variant and segment) differ from the raw rows. */
function countMismatches(answer: ResultsAnswer, raw: { counts: Map<string, number> }, variants: ReadonlyArray<{ key: string }>): string[] {
  const mismatches: string[] = [];
  const expect = (what: string, variant: string, segment: string, n: number) => {
    const want = raw.counts.get(`${variant}/${segment}`) ?? 0;
    if (n !== want) mismatches.push(`${what} ${variant}/${segment || 'everyone'}: ${n} ≠ ${want}`);
  };
  for (const variant of variants) expect('srm', variant.key, '', answer.srm.users[variant.key] ?? 0);
  const seen = new Set<string>();
  for (const metric of answer.metrics)
    for (const segment of metric.segments) {
      seen.add(segment.segment ?? '');
      for (const variant of segment.variants) expect(metric.key, variant.key, segment.segment ?? '', variant.n);
    }
  for (const k of raw.counts.keys()) if (!seen.has(k.slice(k.indexOf('/') + 1))) mismatches.push(`segment ${k} missing from the answer`);
  return mismatches;
}
