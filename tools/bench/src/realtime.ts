import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, JSONCodec, connect, type NatsConnection } from 'nats';
import { startPrivatePostgres, startServiceProcess, type ServiceProcess } from '@segmenta/infra';
import { Client } from 'pg';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase } from '@segmenta/persistence';
import { cpuPerEvent, ownCpuSeconds, pidListeningOn, postmasterPid, processCpuSeconds, processTreeCpuSeconds, readCpu, type CpuCounters } from './process-cpu';
import { openLoop } from './pacing';
import { fmt, percentile, print } from './report';

export interface RealtimeBenchOptions {
  natsUrl: string;
  postgresUrl: string | undefined;
  rate: number;
  seconds: number;
  /** Seconds of the same load before the measured ones: services fresh from start-up compile their code, open pool connections and fill caches. */
  warmupSeconds: number;
  /** Offered rates tried in turn after the main run, each for capacitySeconds, until p99 passes 250 ms (empty: no capacity search). */
  capacityRates: number[];
  capacitySeconds: number;
  /**
   * Runs the pipeline against a private PostgreSQL with pg_stat_statements and prints where its
   * statement time went (issue 17: profile before changing). Private servers run without fsync, so
   * PostgreSQL's CPU per event is lower than on a durable one; the shares are what this is for.
   */
  statements?: boolean;
}

const P99_TARGET_MS = 250;
/** The processes an event passes through, whose CPU is the pipeline's (not the load generator's). */
const PIPELINE = ['ingestion', 'profiles', 'segmentation', 'nats-server', 'PostgreSQL'];
export const BATCH_SIZE = 10;

/** One track call as an SDK sends it: a new visitor's product view, which puts them into VIEWED_TODAY. */
export function productView() {
  return {
    type: 'track',
    event: 'Product Viewed',
    anonymousId: randomUUID(),
    messageId: randomUUID(),
    properties: { category: 'cameras', price: 199 },
    timestamp: new Date().toISOString(),
  };
}

/**
 * Sends `total` items as batches of BATCH_SIZE at `rate` items/s (catching up when behind), or
 * fewer when `stop` is aborted first; resolves the offered rate.
 */
export async function paced(rate: number, total: number, send: (batchIndex: number) => Promise<void>, stop?: AbortSignal): Promise<number> {
  const started = performance.now();
  const batches = await openLoop((1000 * BATCH_SIZE) / rate, Math.ceil(total / BATCH_SIZE), (i) => send(i), stop);
  return Math.min(total, batches * BATCH_SIZE) / ((performance.now() - started) / 1000);
}

interface Step {
  label: string;
  ids: Set<string>;
  latencies: number[];
  toProfiles: number[];
  toSegments: number[];
}

const spread = (values: number[]) =>
  values.length === 0 ? '–' : `${percentile(values, 50).toFixed(0)} / ${percentile(values, 95).toFixed(0)} / ${percentile(values, 99).toFixed(0)} / ${Math.max(...values).toFixed(0)} ms`;
const cpuCell = (value: number | undefined) => (value === undefined ? 'n/a' : value.toFixed(3));
const sum = (values: Array<number | undefined>) => (values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, b) => a + (b as number), 0));

/**
 * Real time: ingestion, profiles and segmentation running; each track call is a new visitor's
 * first product view, which puts them into a segment. Latency is from sending the HTTP request to
 * seeing `segments.entered` for that visitor on NATS (a subscriber to profiles.activity maps the
 * profile to the call), at a paced rate. Besides latency: the CPU each process spent per event
 * (issue 17), against a raw JetStream publish and durable consume of the same calls at the same
 * rate, and the highest offered rate whose p99 stays under 250 ms.
 */
export async function benchRealtime(options: RealtimeBenchOptions): Promise<void> {
  if (!options.statements) return runRealtime(options);
  const postgres = await startPrivatePostgres({ log: print, settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } });
  const client = new Client({ connectionString: postgres.url });
  try {
    await client.connect();
    await client.query('create extension if not exists pg_stat_statements');
    await client.query('select pg_stat_statements_reset()');
    await runRealtime({ ...options, postgresUrl: postgres.url });
    const { rows } = await client.query<{ ms: number; calls: string; rows: string; query: string }>(
      `select total_exec_time as ms, calls, rows, regexp_replace(query, '\\s+', ' ', 'g') as query from pg_stat_statements
        where query !~* '^(create|drop) database|pg_stat_statements' order by total_exec_time desc limit 20`,
    );
    const total = (await client.query<{ ms: number }>(`select coalesce(sum(total_exec_time), 0) as ms from pg_stat_statements where query !~* '^(create|drop) database|pg_stat_statements'`)).rows[0]
      .ms;
    print('');
    print(`PostgreSQL statements of the whole run (pg_stat_statements, private server without fsync): ${fmt(total)} ms of statement time in all`);
    print('');
    print('| ms | share | calls | rows | statement |');
    print('|---|---|---|---|---|');
    for (const r of rows) print(`| ${fmt(r.ms)} | ${((100 * r.ms) / total).toFixed(1)} % | ${fmt(Number(r.calls))} | ${fmt(Number(r.rows))} | \`${r.query.slice(0, 140).replace(/\|/g, '\\|')}\` |`);
  } finally {
    await client.end().catch(() => undefined);
    await postgres.stop();
  }
}

/** The real-time bench's segment: each track call of the load (a new visitor's product view) puts its visitor into it. */
export const VIEWED_TODAY = { key: 'viewed-today', name: 'Viewed a product today', definition: { event: 'Product Viewed', count: { op: 'gte', value: 1 }, within: 'P1D' } };

/** Ingestion, profiles and segmentation (and `more` apps after them) of a bench part, a source to send events with, and the bench's segments. */
export interface Pipeline {
  prefix: string;
  adminKey: string;
  ingestion: ServiceProcess;
  profiles: ServiceProcess;
  segmentation: ServiceProcess;
  /** Every service, the three above first, then `more` in their order. */
  services: ServiceProcess[];
  /** The database of each service, in the order of `services`. */
  databaseUrls: Array<string | undefined>;
  /** Basic authorization with the write key of a source of ingestion. */
  authorization: string;
  /** Stops the services (BENCH_LOG_DIR keeps each one's log), then drops the databases and the NATS prefix. */
  stop(): Promise<void>;
}

/**
 * Starts the pipeline from dist/ on a NATS prefix of its own, each service on a database of its
 * own and with `env` added; segmentation's scheduled recomputes are off (only real-time changes),
 * and the `segments` are created in segmentation. `more` start after the three (offers' first
 * rebuild asks segmentation).
 */
export async function startPipeline(options: {
  natsUrl: string;
  postgresUrl: string | undefined;
  label: string;
  segments: Array<{ key: string; name: string; definition: unknown }>;
  more?: Array<{ app: string; env?: Record<string, string> }>;
  /** Added to every service's environment. */
  env?: Record<string, string>;
}): Promise<Pipeline> {
  const namespace = createTestNamespace(options.natsUrl, options.label);
  const more = options.more ?? [];
  const databases = await Promise.all([0, 1, 2, ...more].map(() => createTestDatabase({ serverUrl: options.postgresUrl })));
  const adminKey = randomBytes(24).toString('base64url');
  // BENCH_LOG_LEVEL=debug BENCH_LOG_DIR=/tmp keeps each service's log (segmentation logs each batch's timings).
  const env = (i: number) => ({
    NATS_URL: options.natsUrl,
    NATS_PREFIX: namespace.prefix,
    DATABASE_URL: databases[i].url,
    DATA_DIR: 'memory://',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ADMIN_API_KEY: adminKey,
    ...options.env,
  });
  const services: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(services.map((s) => s.stop()));
    if (process.env.BENCH_LOG_DIR) for (const s of services) writeFileSync(join(process.env.BENCH_LOG_DIR, `bench-${s.name}.log`), `${s.output.join('\n')}\n`);
    await Promise.all(databases.map((d) => d.drop()));
    await namespace.cleanup();
  };
  try {
    const [ingestion, profiles, segmentation] = await Promise.all([
      startServiceProcess({ app: 'ingestion', mode: 'dist', env: env(0) }),
      startServiceProcess({ app: 'profiles', mode: 'dist', env: env(1) }),
      startServiceProcess({ app: 'segmentation', mode: 'dist', env: { ...env(2), SEGMENTS_RECOMPUTE_CRON: '0 0 1 1 *', SEGMENTS_FULL_RECOMPUTE_CRON: '0 0 1 1 *' } }),
    ]);
    services.push(ingestion, profiles, segmentation);
    for (const [i, extra] of more.entries()) services.push(await startServiceProcess({ app: extra.app, mode: 'dist', env: { ...env(3 + i), ...extra.env } }));
    for (const segment of options.segments) await serviceApi(segmentation, adminKey, 'POST', '/v1/segments', segment);
    const source = (await serviceApi(ingestion, adminKey, 'POST', '/v1/sources', { name: `bench ${options.label}` })) as { writeKey: string };
    return {
      prefix: namespace.prefix,
      adminKey,
      ingestion,
      profiles,
      segmentation,
      services,
      databaseUrls: databases.map((d) => d.url),
      authorization: `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function runRealtime(options: RealtimeBenchOptions): Promise<void> {
  // BENCH_LOG_DIR also keeps each visitor's latencies by send time, to see when the slow ones happen.
  const timeline: string[] = ['sent_ms,entered_ms,activity_ms'];
  const nc = await connect({ servers: options.natsUrl });
  const natsPid = pidListeningOn(Number(new URL(options.natsUrl.replace(/^nats:/, 'http:')).port || 4222));
  let services: Pipeline | undefined;
  try {
    services = await startPipeline({ natsUrl: options.natsUrl, postgresUrl: options.postgresUrl, label: 'bench-rt', segments: [VIEWED_TODAY] });
    const { ingestion, profiles, segmentation, authorization, prefix } = services;
    const postmaster = await postmasterPid(services.databaseUrls[0]?.startsWith('postgres') ? services.databaseUrls[0] : undefined);
    const counters: CpuCounters = {
      ingestion: () => processCpuSeconds(ingestion.pid),
      profiles: () => processCpuSeconds(profiles.pid),
      segmentation: () => processCpuSeconds(segmentation.pid),
      'nats-server': () => processCpuSeconds(natsPid),
      PostgreSQL: () => processTreeCpuSeconds(postmaster),
      'load generator (bench)': () => ownCpuSeconds(),
    };

    const codec = JSONCodec<{ type: string; data: { profileId: string; eventId?: string; segmentKey?: string } }>();
    const sentAt = new Map<string, number>();
    const stepOf = new Map<string, Step>();
    const profileToEvent = new Map<string, string>();
    const activitySeenAt = new Map<string, number>();
    const pendingEntered = new Map<string, number>();
    const started = performance.now();
    const activity = nc.subscribe(`${prefix}.profiles.activity`);
    const entered = nc.subscribe(`${prefix}.segments.entered`);
    const record = (profileId: string, at: number) => {
      const eventId = profileToEvent.get(profileId);
      const sent = eventId ? sentAt.get(eventId) : undefined;
      const step = eventId ? stepOf.get(eventId) : undefined;
      if (sent === undefined || step === undefined) {
        pendingEntered.set(profileId, at);
        return;
      }
      pendingEntered.delete(profileId);
      timeline.push(`${(sent - started).toFixed(0)},${(at - sent).toFixed(1)},${((activitySeenAt.get(profileId) ?? at) - sent).toFixed(1)}`);
      step.latencies.push(at - sent);
      step.toSegments.push(at - (activitySeenAt.get(profileId) ?? at));
    };
    // A visitor's entry counted before its activity message arrived waits in pendingEntered.
    void (async () => {
      for await (const msg of activity) {
        const { data } = codec.decode(msg.data);
        if (!data.eventId) continue;
        const seenAt = performance.now();
        profileToEvent.set(data.profileId, data.eventId);
        activitySeenAt.set(data.profileId, seenAt);
        const sent = sentAt.get(data.eventId);
        if (sent !== undefined) stepOf.get(data.eventId)?.toProfiles.push(seenAt - sent);
        const seen = pendingEntered.get(data.profileId);
        if (seen !== undefined) record(data.profileId, seen);
      }
    })();
    void (async () => {
      for await (const msg of entered) {
        const at = performance.now();
        const { data } = codec.decode(msg.data);
        if (data.segmentKey === VIEWED_TODAY.key) record(data.profileId, at);
      }
    })();

    // Kept-alive sockets through node:http: the load generator shares the two cores with what it
    // measures, and fetch (undici) cost it about twice the CPU for the same requests.
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const newStep = (label: string): Step => ({ label, ids: new Set(), latencies: [], toProfiles: [], toSegments: [] });
    const load = (step: Step, rate: number, seconds: number) =>
      paced(rate, Math.round(rate * seconds), async () => {
        const batch = Array.from({ length: BATCH_SIZE }, productView);
        const at = performance.now();
        for (const call of batch) {
          sentAt.set(call.messageId, at);
          stepOf.set(call.messageId, step);
          step.ids.add(call.messageId);
        }
        await postJson(agent, `${ingestion.url}/v1/batch`, authorization, JSON.stringify({ batch }));
      });
    const drained = async (step: Step) => {
      const deadline = Date.now() + 60_000;
      while (step.latencies.length < step.ids.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      return step.latencies.length === step.ids.size;
    };

    // 1. The main run: warm-up, then the measured seconds without a pause; CPU from the boundary until every measured visitor entered.
    print('');
    print(
      `segmentation real time: ${fmt(options.rate)} events/s for ${options.warmupSeconds} s of warm-up, then ${options.seconds} s measured, through ingestion → profiles → segmentation (each a new visitor's product view)`,
    );
    const warmup = newStep('warm-up');
    const main = newStep(`${fmt(options.rate)} events/s`);
    await load(warmup, options.rate, options.warmupSeconds);
    const cpuBefore = readCpu(counters);
    const offered = await load(main, options.rate, options.seconds);
    await drained(warmup);
    await drained(main);
    const perEvent = cpuPerEvent(cpuBefore, readCpu(counters), main.ids.size);

    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| offered | ${fmt(offered)} events/s, ${fmt(main.ids.size + warmup.ids.size)} events | ${fmt(options.rate)} events/s |`);
    print(`| visitors seen entering the segment | ${fmt(main.latencies.length)} of ${fmt(main.ids.size)} measured, ${fmt(warmup.latencies.length)} of ${fmt(warmup.ids.size)} in the warm-up | all |`);
    print(`| request sent → segments.entered: p50 / p95 / p99 / max | ${spread(main.latencies)} | p99 < ${P99_TARGET_MS} ms (issue 17: < 100 ms) |`);
    print(`| of which request sent → profiles.activity | ${spread(main.toProfiles)} | |`);
    print(`| of which profiles.activity → segments.entered | ${spread(main.toSegments)} | |`);
    if (warmup.latencies.length > 0) print(`| warm-up (the first ${options.warmupSeconds} s after start-up, not in the figures above): p50 / p95 / p99 / max | ${spread(warmup.latencies)} | |`);

    // 2. The raw baseline at the same rate: the same calls published to a stream and consumed by a durable consumer, nothing else.
    const raw = await rawPublishConsume(nc, prefix, options.rate, options.seconds, {
      'nats-server': counters['nats-server'],
      'publisher + consumer (bench)': counters['load generator (bench)'],
    });
    const pipeline = sum(PIPELINE.map((name) => perEvent[name]));
    const rawTotal = sum(Object.values(raw.perEvent));
    print('');
    print(`CPU per event at ${fmt(options.rate)} events/s (core-ms per event = CPU seconds per 1,000 events; from the end of the warm-up until every measured visitor entered)`);
    print('');
    print('| process | core-ms per event |');
    print('|---|---|');
    for (const name of PIPELINE) print(`| ${name} | ${cpuCell(perEvent[name])} |`);
    print(`| **pipeline** (target ≤ 0.6) | **${cpuCell(pipeline)}**${pipeline === undefined ? '' : ` (${((pipeline * options.rate) / 10).toFixed(0)} % of one core at this rate)`} |`);
    print(`| load generator (bench, not in the pipeline) | ${cpuCell(perEvent['load generator (bench)'])} |`);
    print(
      `| raw baseline: JetStream publish + durable consume of the same calls at ${fmt(raw.offered)} msg/s (nats-server ${cpuCell(raw.perEvent['nats-server'])}, bench ${cpuCell(raw.perEvent['publisher + consumer (bench)'])}) | ${cpuCell(rawTotal)} |`,
    );
    if (pipeline !== undefined && rawTotal !== undefined && rawTotal > 0) print(`| pipeline / raw baseline | ${(pipeline / rawTotal).toFixed(1)}× |`);

    // 3. Capacity: rising rates on the same services until p99 passes the target or visitors go missing.
    if (options.capacityRates.length > 0) {
      print('');
      print(`capacity: ${options.capacitySeconds} s at each rate on the same services, until p99 request → segments.entered passes ${P99_TARGET_MS} ms`);
      print('');
      print('| offered events/s | entered | p50 / p95 / p99 / max | pipeline core-ms per event | CPU of all cores |');
      print('|---|---|---|---|---|');
      let capacity = 0;
      for (const rate of options.capacityRates) {
        const step = newStep(`${fmt(rate)} events/s`);
        const before = readCpu(counters);
        const beganAt = performance.now();
        const stepOffered = await load(step, rate, options.capacitySeconds);
        const complete = await drained(step);
        const elapsed = (performance.now() - beganAt) / 1000;
        const after = readCpu(counters);
        const stepPerEvent = cpuPerEvent(before, after, step.ids.size);
        const stepCpu = sum(PIPELINE.map((name) => stepPerEvent[name]));
        // Core-seconds over the step's wall time, as a share of every core of the machine.
        const busyShare = stepCpu === undefined ? undefined : (stepCpu * step.ids.size) / 1000 / elapsed / availableParallelism();
        const p99 = step.latencies.length > 0 ? percentile(step.latencies, 99) : Infinity;
        const ok = complete && p99 < P99_TARGET_MS && stepOffered >= rate * 0.95;
        print(
          `| ${fmt(stepOffered)} (asked ${fmt(rate)}) | ${fmt(step.latencies.length)} of ${fmt(step.ids.size)} | ${spread(step.latencies)} | ${cpuCell(stepCpu)} | ${busyShare === undefined ? 'n/a' : `${(busyShare * 100).toFixed(0)} %`} |`,
        );
        if (!ok) break;
        capacity = rate;
      }
      const rawMax = await rawPublishConsume(nc, prefix, Infinity, 0, {}, 40_000);
      print('');
      print(`| capacity (highest rate with p99 < ${P99_TARGET_MS} ms) | ${capacity > 0 ? `${fmt(capacity)} events/s` : `below ${fmt(options.capacityRates[0])} events/s`} | target ≥ 3,000 |`);
      print(`| raw baseline: JetStream publish + durable consume of the same calls, unpaced | ${fmt(rawMax.offered)} msg/s | |`);
    }
    activity.unsubscribe();
    entered.unsubscribe();
    agent.destroy();
  } finally {
    await nc.close();
    await services?.stop();
    if (process.env.BENCH_LOG_DIR) writeFileSync(join(process.env.BENCH_LOG_DIR, 'bench-realtime-latencies.csv'), `${timeline.join('\n')}\n`);
  }
}

/**
 * The floor any pipeline pays: each call published to a stream of its own (pipelined, acked) and
 * taken by a durable pull consumer that acks it, in this process. Paced like the pipeline's load
 * (rate and seconds), or unpaced (rate Infinity, `count` messages) for the highest rate.
 */
async function rawPublishConsume(
  nc: NatsConnection,
  prefix: string,
  rate: number,
  seconds: number,
  counters: CpuCounters,
  count = Math.round(rate * seconds),
): Promise<{ offered: number; perEvent: Record<string, number | undefined> }> {
  const jsm = await nc.jetstreamManager();
  const stream = `${prefix}_RAW_RT_${randomBytes(3).toString('hex')}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit });
  const js = nc.jetstream();
  const body = Buffer.from(JSON.stringify(productView()));
  try {
    const consumer = await js.consumers.get(stream, 'raw');
    const messages = await consumer.consume({ max_messages: 500 });
    let consumed = 0;
    const done = (async () => {
      for await (const msg of messages) {
        msg.ack();
        consumed += 1;
        if (consumed >= count) break;
      }
    })();
    const before = readCpu(counters);
    const started = performance.now();
    const publish = async () => {
      await Promise.all(Array.from({ length: BATCH_SIZE }, () => js.publish(`${stream}.track`, body)));
    };
    if (Number.isFinite(rate)) await paced(rate, count, publish);
    else for (let i = 0; i * BATCH_SIZE < count; i += 100) await Promise.all(Array.from({ length: 100 }, publish));
    await done;
    const offered = count / ((performance.now() - started) / 1000);
    return { offered, perEvent: cpuPerEvent(before, readCpu(counters), count) };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
  }
}

/** An admin call to a service under the bench; throws with the answer when it is not 2xx. */
export async function serviceApi(service: ServiceProcess, adminKey: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** POSTs one JSON body and resolves once the answer is 2xx (rejects with the answer otherwise). */
export function postJson(agent: Agent, url: string, authorization: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`POST ${url} answered ${status}: ${Buffer.concat(chunks).toString('utf8')}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
