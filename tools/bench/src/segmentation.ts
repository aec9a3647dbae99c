import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { JSONCodec, connect } from 'nats';
import { Client } from 'pg';
import { startServiceProcess, type ServiceProcess } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase } from '@segmenta/persistence';
import { compileMembersQuery, compilePredicate, type ProfileSnapshot, type SegmentDefinition } from '@segmenta/segment-rules';
import { fmt, median, percentile, print } from './report';
import { BENCH_SEGMENTS, CATEGORIES, COUNTRIES, STAGES, seedStatements } from './segment-definitions';

const DAY = 86_400_000;

export interface SegmentationBenchOptions {
  natsUrl: string;
  postgresUrl: string | undefined;
  profiles: number;
  factsPerProfile: number;
  realtimeRate: number;
  realtimeSeconds: number;
  /** Seconds of the same load before the measured ones: services fresh from start-up compile their code, open pool connections and fill caches. */
  realtimeWarmupSeconds: number;
  runs: number;
}

export async function benchSegmentation(options: SegmentationBenchOptions): Promise<void> {
  benchEvaluator(options.runs);
  if (options.profiles > 0) await benchRecompute(options);
  if (options.realtimeSeconds > 0) await benchRealtime(options);
}

/** A deterministic pseudo-random snapshot population like the one the recompute bench seeds. */
function snapshots(count: number, now: number): ProfileSnapshot[] {
  let state = 42;
  const rnd = () => ((state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const pick = <T>(values: T[]) => values[Math.floor(rnd() * values.length)];
  return Array.from({ length: count }, (_, i) => ({
    traits: { country: pick(COUNTRIES), plan: pick(['free', 'free', 'silver', 'gold']), ...(rnd() < 0.7 ? { email: `c${i}@example.com` } : {}) },
    features: { orders: Math.floor(rnd() ** 2 * 20), recency_days: Math.floor(rnd() * 365), rfm_r: 1 + Math.floor(rnd() * 5), rfm_f: 1 + Math.floor(rnd() * 5), lifecycle_stage: pick(STAGES), top_category: pick(CATEGORIES), clv: rnd() * 1000, p_alive: rnd() },
    facts: Array.from({ length: 10 }, () => ({ name: pick(['Product Viewed', 'Product Viewed', 'Product Added', 'Order Completed', 'Page Viewed']), props: { category: pick(CATEGORIES), price: rnd() * 300, revenue: rnd() * 200 }, at: now - rnd() * 365 * DAY })),
  }));
}

/** Calls of `fn` over `items` per second, repeated for about `ms`. */
function rate(items: ProfileSnapshot[], fn: (p: ProfileSnapshot) => boolean, ms = 400): number {
  let calls = 0;
  let hits = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < items.length; i += 1) if (fn(items[i])) hits += 1;
    calls += items.length;
    elapsed = performance.now() - started;
  }
  // `hits` is read so the loop cannot be optimised away.
  return hits >= 0 ? calls / (elapsed / 1000) : 0;
}

/**
 * In-memory evaluator: single-condition definitions (so one predicate call is one condition
 * evaluation), each compiled once, against a hand-written closure doing the same test (the ceiling).
 */
function benchEvaluator(runs: number): void {
  const now = Date.now();
  const population = snapshots(20_000, now);
  const conditions: Array<{ name: string; definition: SegmentDefinition; handWritten: (p: ProfileSnapshot) => boolean }> = [
    { name: 'trait eq', definition: { trait: 'country', op: 'eq', value: 'DE' }, handWritten: (p) => p.traits.country === 'DE' },
    { name: 'trait in', definition: { trait: 'country', op: 'in', value: ['DE', 'AT', 'CH'] }, handWritten: (p) => p.traits.country === 'DE' || p.traits.country === 'AT' || p.traits.country === 'CH' },
    { name: 'trait exists', definition: { trait: 'email', op: 'exists' }, handWritten: (p) => p.traits.email !== undefined && p.traits.email !== null },
    { name: 'trait contains', definition: { trait: 'email', op: 'contains', value: '7@' }, handWritten: (p) => typeof p.traits.email === 'string' && p.traits.email.includes('7@') },
    { name: 'feature gte', definition: { feature: 'orders', op: 'gte', value: 5 }, handWritten: (p) => typeof p.features.orders === 'number' && p.features.orders >= 5 },
    { name: 'feature between', definition: { feature: 'recency_days', op: 'between', value: [30, 90] }, handWritten: (p) => typeof p.features.recency_days === 'number' && p.features.recency_days >= 30 && p.features.recency_days <= 90 },
    { name: 'feature neq (text)', definition: { feature: 'lifecycle_stage', op: 'neq', value: 'lapsed' }, handWritten: (p) => p.features.lifecycle_stage !== undefined && p.features.lifecycle_stage !== 'lapsed' },
  ];
  const behaviour: SegmentDefinition = { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 2 }, within: 'P30D' };
  const ours: number[] = [];
  const ceiling: number[] = [];
  const behaviourRates: number[] = [];
  const segmentRates: number[] = [];
  const segments = BENCH_SEGMENTS.map((s) => compilePredicate(s.definition));
  for (let run = 0; run < Math.max(3, runs); run += 1) {
    // Each condition runs for the same time, so the mean of the rates is the overall rate.
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    ours.push(mean(conditions.map((c) => {
      const predicate = compilePredicate(c.definition);
      return rate(population, (p) => predicate(p, now));
    })));
    ceiling.push(mean(conditions.map((c) => rate(population, c.handWritten))));
    const b = compilePredicate(behaviour);
    behaviourRates.push(rate(population, (p) => b(p, now)));
    segmentRates.push(rate(population, (p) => {
      let any = false;
      for (const s of segments) any = s(p, now) || any;
      return any;
    }) * segments.length);
  }
  print('');
  print(`segment-rules in-memory evaluator: ${conditions.length} single-condition definitions × 20,000 profile snapshots, ${Math.max(3, runs)} runs`);
  print('');
  print('| measure | median | target |');
  print('|---|---|---|');
  print(`| hand-written closures doing the same tests (ceiling) | ${fmt(median(ceiling))} conditions/s | |`);
  print(`| compiled predicates, one condition each | ${fmt(median(ours))} conditions/s | ≥ 10,000,000 |`);
  print(`| compiled / hand-written | ${((median(ours) / median(ceiling)) * 100).toFixed(0)} % | |`);
  print(`| behaviour condition over 10 facts (filter + count in a 30-day window) | ${fmt(median(behaviourRates))} evaluations/s | |`);
  print(`| the 20 bench segments (mixed), profile × segment | ${fmt(median(segmentRates))} evaluations/s | |`);
}

async function api(service: ServiceProcess, adminKey: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * Full recompute of the 20 segments over `profiles` customers with `factsPerProfile` facts each,
 * through the service (POST /v1/segments/recompute: one shared-aggregate statement, the diff in
 * SQL, changes logged and published), against one statement per segment in the same run.
 */
async function benchRecompute(options: SegmentationBenchOptions): Promise<void> {
  if (!options.postgresUrl) {
    print('segmentation recompute: skipped (needs a PostgreSQL server; set DATABASE_URL)');
    return;
  }
  const namespace = createTestNamespace(options.natsUrl, 'bench-seg');
  const database = await createTestDatabase({ serverUrl: options.postgresUrl });
  const adminKey = randomBytes(24).toString('base64url');
  const client = new Client({ connectionString: database.url });
  let service: ServiceProcess | undefined;
  try {
    service = await startServiceProcess({
      app: 'segmentation',
      mode: 'dist',
      // The schedule is pushed out of the way: only the measured recomputes run.
      env: { NATS_URL: options.natsUrl, NATS_PREFIX: namespace.prefix, DATABASE_URL: database.url, DATA_DIR: 'memory://', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', ADMIN_API_KEY: adminKey, SEGMENTS_RECOMPUTE_CRON: '0 0 1 1 *' },
    });
    const builtins = (await api(service, adminKey, 'GET', '/v1/segments')) as Array<{ key: string }>;
    for (const b of builtins) await api(service, adminKey, 'DELETE', `/v1/segments/${b.key}`);
    const created: Array<{ id: string; key: string; definition: SegmentDefinition }> = [];
    for (const s of BENCH_SEGMENTS) {
      const row = (await api(service, adminKey, 'POST', '/v1/segments', { key: s.key, name: s.key, definition: s.definition })) as { id: string };
      created.push({ id: row.id, key: s.key, definition: s.definition });
    }

    await client.connect();
    print('');
    print(`segmentation: seeding ${fmt(options.profiles)} profiles × ${options.factsPerProfile} behaviour facts (${fmt(options.profiles * options.factsPerProfile)} facts)…`);
    const seedStarted = performance.now();
    const indexes = (await client.query(`select indexname, indexdef from pg_indexes where schemaname = 'segmentation' and tablename = 'behaviour_facts' and indexname not in (select conname from pg_constraint)`)).rows as Array<{ indexname: string; indexdef: string }>;
    for (const index of indexes) await client.query(`drop index segmentation.${index.indexname}`);
    for (const statement of seedStatements(options.profiles, options.factsPerProfile)) await client.query(statement);
    for (const index of indexes) await client.query(index.indexdef);
    await client.query('analyze segmentation.profile_view; analyze segmentation.behaviour_facts');
    print(`  seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

    const tables = { profileView: 'segmentation.profile_view', behaviourFacts: 'segmentation.behaviour_facts', memberships: 'segmentation.memberships' };
    const segmentId = (key: string) => created.find((c) => c.key === key)?.id;
    // Memberships as a recompute a day earlier left them: the measured one then finds a day's differences.
    const yesterday = Date.now() - DAY;
    const primeStarted = performance.now();
    for (const s of created) {
      const q = compileMembersQuery(s.definition, { tables, now: yesterday, segmentId });
      const offset = q.values.length;
      await client.query(`insert into segmentation.memberships (segment_id, profile_id, since) select $${offset + 1}::uuid, profile_id, now() - interval '1 day' from (${q.text}) q`, [...q.values, s.id]);
    }
    // As autovacuum leaves tables whose rows arrived over weeks: hint bits set, visibility map current
    // (otherwise the first statement to read the freshly bulk-loaded rows pays for writing them).
    await client.query('vacuum analyze segmentation.profile_view, segmentation.behaviour_facts, segmentation.memberships');
    const members = (await client.query('select count(*)::int as n from segmentation.memberships')).rows[0].n as number;
    print(`  memberships as of a day earlier: ${fmt(members)} (${((performance.now() - primeStarted) / 1000).toFixed(1)} s)`);

    const baseline: number[] = [];
    const recompute: Array<{ ms: number; entered: number; exited: number }> = [];
    for (let run = 1; run <= options.runs; run += 1) {
      const started = performance.now();
      for (const s of created) {
        const q = compileMembersQuery(s.definition, { tables, now: Date.now(), segmentId });
        await client.query(`select count(*) from (${q.text}) q`, q.values);
      }
      baseline.push(performance.now() - started);
      print(`  run ${run}: one statement per segment (count only, no diff, nothing written) ${(baseline[baseline.length - 1] / 1000).toFixed(2)} s`);
      const t = performance.now();
      const summary = (await api(service, adminKey, 'POST', '/v1/segments/recompute')) as { entered: number; exited: number; profiles: number };
      recompute.push({ ms: performance.now() - t, entered: summary.entered, exited: summary.exited });
      print(`  run ${run}: service recompute ${((performance.now() - t) / 1000).toFixed(2)} s over ${fmt(summary.profiles)} profiles: ${fmt(summary.entered)} entered, ${fmt(summary.exited)} exited (logged and published)`);
    }
    const first = recompute[0];
    const steady = recompute.slice(1).map((r) => r.ms);
    print('');
    print(`| measure (${fmt(options.profiles)} profiles, ${fmt(options.profiles * options.factsPerProfile)} facts, 20 segments) | value | target |`);
    print('|---|---|---|');
    print(`| one statement per segment, count only (baseline, median) | ${(median(baseline) / 1000).toFixed(2)} s | |`);
    print(`| full recompute a day after the last one, diffs logged and published | ${(first.ms / 1000).toFixed(2)} s (${fmt(first.entered)} entered, ${fmt(first.exited)} exited) | < 10 s |`);
    if (steady.length > 0) print(`| full recompute with nothing changed (median of ${steady.length}) | ${(median(steady) / 1000).toFixed(2)} s | < 10 s |`);
    print(`| recompute / baseline | ${((first.ms / median(baseline)) * 100).toFixed(0)} % | |`);
  } finally {
    await client.end().catch(() => undefined);
    await service?.stop();
    if (process.env.BENCH_LOG_DIR && service) writeFileSync(join(process.env.BENCH_LOG_DIR, 'bench-segmentation-recompute.log'), `${service.output.join('\n')}\n`);
    // BENCH_KEEP_DATABASE=1 keeps the seeded database for experiments (drop it by hand).
    if (process.env.BENCH_KEEP_DATABASE === '1') print(`  kept database ${database.url}`);
    else await database.drop();
    await namespace.cleanup();
  }
}

/**
 * Real time: ingestion, profiles and segmentation running; each track call is a new visitor's
 * first product view, which puts them into a segment. Latency is from sending the HTTP request to
 * seeing `segments.entered` for that visitor on NATS (a subscriber to profiles.activity maps the
 * profile to the call), at a paced rate.
 */
async function benchRealtime(options: SegmentationBenchOptions): Promise<void> {
  const namespace = createTestNamespace(options.natsUrl, 'bench-rt');
  const databases = await Promise.all([0, 1, 2].map(() => createTestDatabase({ serverUrl: options.postgresUrl })));
  const adminKey = randomBytes(24).toString('base64url');
  // BENCH_LOG_LEVEL=debug BENCH_LOG_DIR=/tmp keeps each service's log (segmentation logs each batch's timings).
  const env = (i: number) => ({ NATS_URL: options.natsUrl, NATS_PREFIX: namespace.prefix, DATABASE_URL: databases[i].url, DATA_DIR: 'memory://', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', ADMIN_API_KEY: adminKey });
  const services: ServiceProcess[] = [];
  // BENCH_LOG_DIR also keeps each visitor's latencies by send time, to see when the slow ones happen.
  const timeline: string[] = ['sent_ms,entered_ms,activity_ms'];
  const nc = await connect({ servers: options.natsUrl });
  try {
    const [ingestion, profiles, segmentation] = await Promise.all([
      startServiceProcess({ app: 'ingestion', mode: 'dist', env: env(0) }),
      startServiceProcess({ app: 'profiles', mode: 'dist', env: env(1) }),
      startServiceProcess({ app: 'segmentation', mode: 'dist', env: { ...env(2), SEGMENTS_RECOMPUTE_CRON: '0 0 1 1 *' } }),
    ]);
    services.push(ingestion, profiles, segmentation);
    await api(segmentation, adminKey, 'POST', '/v1/segments', { key: 'viewed-today', name: 'Viewed a product today', definition: { event: 'Product Viewed', count: { op: 'gte', value: 1 }, within: 'P1D' } });
    const source = (await api(ingestion, adminKey, 'POST', '/v1/sources', { name: 'bench realtime' })) as { writeKey: string };
    const authorization = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;

    const codec = JSONCodec<{ type: string; data: { profileId: string; eventId?: string; segmentKey?: string } }>();
    const sentAt = new Map<string, number>();
    const profileToEvent = new Map<string, string>();
    const latencies: number[] = [];
    // The warm-up's events, kept apart.
    const warmupIds = new Set<string>();
    const warmup: number[] = [];
    // The same path split at profiles.activity: ingestion → profiles, then profiles → segmentation.
    const toProfiles: number[] = [];
    const toSegments: number[] = [];
    const activitySeenAt = new Map<string, number>();
    let started = performance.now();
    const activity = nc.subscribe(`${namespace.prefix}.profiles.activity`);
    const entered = nc.subscribe(`${namespace.prefix}.segments.entered`);
    const pendingEntered = new Map<string, number>();
    const record = (profileId: string, at: number) => {
      const eventId = profileToEvent.get(profileId);
      const sent = eventId ? sentAt.get(eventId) : undefined;
      if (sent === undefined) {
        pendingEntered.set(profileId, at);
        return;
      }
      pendingEntered.delete(profileId);
      timeline.push(`${(sent - started).toFixed(0)},${(at - sent).toFixed(1)},${((activitySeenAt.get(profileId) ?? at) - sent).toFixed(1)}`);
      if (eventId !== undefined && warmupIds.has(eventId)) {
        warmup.push(at - sent);
        return;
      }
      latencies.push(at - sent);
      toSegments.push(at - (activitySeenAt.get(profileId) ?? at));
    };
    void (async () => {
      for await (const msg of activity) {
        const { data } = codec.decode(msg.data);
        if (!data.eventId) continue;
        const seenAt = performance.now();
        profileToEvent.set(data.profileId, data.eventId);
        activitySeenAt.set(data.profileId, seenAt);
        const sent = sentAt.get(data.eventId);
        if (sent !== undefined && !warmupIds.has(data.eventId)) toProfiles.push(seenAt - sent);
        const seen = pendingEntered.get(data.profileId);
        if (seen !== undefined) record(data.profileId, seen);
      }
    })();
    void (async () => {
      for await (const msg of entered) {
        const at = performance.now();
        const { data } = codec.decode(msg.data);
        if (data.segmentKey === 'viewed-today') record(data.profileId, at);
      }
    })();

    // Batches of 10 every 10 ms make 1,000 events/s: what SDKs flushing small batches send.
    const batchSize = 10;
    const interval = (1000 * batchSize) / options.realtimeRate;
    const total = Math.round(options.realtimeRate * (options.realtimeWarmupSeconds + options.realtimeSeconds));
    const measured = Math.round(options.realtimeRate * options.realtimeSeconds);
    print('');
    print(`segmentation real time: ${fmt(options.realtimeRate)} events/s for ${options.realtimeWarmupSeconds} s of warm-up, then ${options.realtimeSeconds} s measured, through ingestion → profiles → segmentation (each a new visitor's product view)`);
    // Kept-alive sockets through node:http: the load generator shares the two cores with what it
    // measures, and fetch (undici) cost it about twice the CPU for the same requests.
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    started = performance.now();
    const requests: Array<Promise<void>> = [];
    for (let sent = 0; sent < total; sent += batchSize) {
      const due = started + (sent / batchSize) * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const batch = Array.from({ length: batchSize }, () => ({ type: 'track', event: 'Product Viewed', anonymousId: randomUUID(), messageId: randomUUID(), properties: { category: 'cameras', price: 199 }, timestamp: new Date().toISOString() }));
      const at = performance.now();
      for (const call of batch) sentAt.set(call.messageId, at);
      if (sent < total - measured) for (const call of batch) warmupIds.add(call.messageId);
      requests.push(postBatch(agent, `${ingestion.url}/v1/batch`, authorization, JSON.stringify({ batch })));
    }
    await Promise.all(requests);
    agent.destroy();
    const offered = total / ((performance.now() - started) / 1000);
    const deadline = Date.now() + 60_000;
    while (latencies.length + warmup.length < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    activity.unsubscribe();
    entered.unsubscribe();
    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| offered | ${fmt(offered)} events/s, ${fmt(total)} events | 1,000 events/s |`);
    print(`| visitors seen entering the segment | ${fmt(latencies.length)} of ${fmt(measured)} measured, ${fmt(warmup.length)} of ${fmt(total - measured)} in the warm-up | all |`);
    const spread = (values: number[]) => `${percentile(values, 50).toFixed(0)} / ${percentile(values, 95).toFixed(0)} / ${percentile(values, 99).toFixed(0)} / ${Math.max(...values).toFixed(0)} ms`;
    print(`| request sent → segments.entered: p50 / p95 / p99 / max | ${spread(latencies)} | p99 < 250 ms |`);
    print(`| of which request sent → profiles.activity | ${spread(toProfiles)} | |`);
    print(`| of which profiles.activity → segments.entered | ${spread(toSegments)} | |`);
    if (warmup.length > 0) print(`| warm-up (the first ${options.realtimeWarmupSeconds} s after start-up, not in the figures above): p50 / p95 / p99 / max | ${spread(warmup)} | |`);
  } finally {
    await nc.close();
    await Promise.all(services.map((s) => s.stop()));
    if (process.env.BENCH_LOG_DIR) writeFileSync(join(process.env.BENCH_LOG_DIR, 'bench-realtime-latencies.csv'), `${timeline.join('\n')}\n`);
    if (process.env.BENCH_LOG_DIR) for (const s of services) writeFileSync(join(process.env.BENCH_LOG_DIR, `bench-${s.name}.log`), `${s.output.join('\n')}\n`);
    await Promise.all(databases.map((d) => d.drop()));
    await namespace.cleanup();
  }
}

/** POSTs one JSON body and resolves once the answer is 2xx (rejects with the answer otherwise). */
function postBatch(agent: Agent, url: string, authorization: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`ingestion answered ${status}: ${Buffer.concat(chunks).toString('utf8')}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
