import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { connect as connectNats } from 'nats';
import { Client } from 'pg';
import { Analytics } from '@segment/analytics-node';
import { showExperiment, type DemoExperiment } from './demo-experiment';
import { showJourneys, type DemoJourneys } from './demo-journeys';
import { showLoyalty, type DemoLoyalty } from './demo-loyalty';
import { showOffers, type DemoOffers } from './demo-offers';
import { showAnalytics, showSegments } from './demo-segments';
import { SERVICE_NAMES, SERVICE_PORTS, type ServiceName } from '@segmenta/contracts';
import { ensurePgliteTemplate, readPgliteTemplate } from '@segmenta/persistence';
import { WORKSPACE_ROOT, ensureNats, ensurePostgres, freePort, startServiceProcess, waitFor, type NatsEndpoint, type ServiceProcess } from '@segmenta/infra';

export interface DemoOptions {
  /** Use the embedded PGlite even when a PostgreSQL server is reachable. */
  embedded: boolean;
  /** Keep the services running after the scenario until Ctrl-C. */
  keep: boolean;
  /** Keep earlier runs' data (default: start from an empty demo database and demo streams). */
  keepData?: boolean;
  /** Receives the function that stops what was started, as soon as services start (signal handling). */
  onStarted?: (stop: () => Promise<void>) => void;
  /** Run the TypeScript sources (tests) instead of the `npm run build` output. */
  mode: 'dist' | 'source';
  /** Pick free ports instead of the standard 3001-3005 (tests). */
  freePorts: boolean;
  prefix: string;
  /** Where PGlite keeps each service's files. */
  dataDir: string;
  print: (line: string) => void;
  /** How long each service may take to answer /ready (default DEFAULT_READY_TIMEOUT_MS). */
  readyTimeoutMs?: number;
}

/** Five services starting at once on a busy two-core machine took 45-100 s; only a hung one fails. */
export const DEFAULT_READY_TIMEOUT_MS = 300_000;

export interface DemoResult {
  services: Array<{ name: ServiceName; url: string; ready: boolean; database: string }>;
  events: { sent: number; stored: number; medianMs: number; maxMs: number };
  profile: { id: string; identities: string[]; features: Record<string, unknown> };
  segments: { segments: Array<{ key: string; size: number }>; customerSegments: string[] };
  analytics: Awaited<ReturnType<typeof showAnalytics>>;
  offers: DemoOffers;
  loyalty: DemoLoyalty;
  journeys: DemoJourneys;
  experiment: DemoExperiment;
}

const SCENARIO = [
  { event: 'Product Viewed', properties: { category: 'cameras', sku: 'CAM-100', price: 499 } },
  { event: 'Product Viewed', properties: { category: 'cameras', sku: 'CAM-220', price: 899 } },
  { event: 'Product Added', properties: { category: 'cameras', sku: 'CAM-220', price: 899, quantity: 1 } },
  { event: 'Order Completed', properties: { revenue: 899, currency: 'EUR', products: [{ category: 'cameras', price: 899, quantity: 1 }] } },
  { event: 'Product Viewed', properties: { category: 'lenses', sku: 'LEN-35', price: 349 } },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function portFor(name: ServiceName, freePorts: boolean, print: (line: string) => void): Promise<number> {
  if (freePorts) return freePort();
  const standard = SERVICE_PORTS[name];
  if (!(await isPortTaken(standard))) return standard;
  // Another process holds the standard port: say who, if it is ours, and take a free one rather than fail.
  const health = await fetch(`http://127.0.0.1:${standard}/health`)
    .then(async (response) => (await response.json()) as { service?: string })
    .catch(() => undefined);
  const port = await freePort();
  const holder = health?.service ? `a Segmenta ${health.service} (an earlier demo still running? stop it with Ctrl-C, or find it with \`lsof -i :${standard}\`)` : 'another program';
  print(`  port ${standard} is taken by ${holder}; ${name} uses ${port} instead`);
  return port;
}

function isPortTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * The demo's database on the server: `segmenta_demo`, dropped and created again when `fresh`, so a
 * run never mixes with the data of an earlier one (or with a real deployment's database).
 */
async function demoDatabase(serverUrl: string, fresh: boolean): Promise<string> {
  const url = new URL(serverUrl);
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    if (fresh) await client.query(`drop database if exists ${DEMO_DATABASE} with (force)`);
    const exists = await client.query('select 1 from pg_database where datname = $1', [DEMO_DATABASE]);
    if (exists.rowCount === 0) await client.query(`create database ${DEMO_DATABASE}`);
  } finally {
    await client.end();
  }
  url.pathname = `/${DEMO_DATABASE}`;
  return url.toString();
}

/** Deletes the demo's streams and key-value buckets (`<prefix>_*`), which the services create again. */
async function emptyDemoStreams(natsUrl: string, prefix: string): Promise<void> {
  const nc = await connectNats({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

const DEMO_DATABASE = 'segmenta_demo';
/** The demo's NATS prefix: its streams stay apart from a deployment's (`segmenta`). */
export const DEMO_NATS_PREFIX = 'segmenta_demo';

/**
 * The newcomer's first run: finds or starts NATS and PostgreSQL (or the embedded PGlite), starts
 * the five services, waits until each is ready, sends a customer's journey through ingestion and
 * shows it arriving in profiles.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult & { stop(): Promise<void> }> {
  const { print } = options;
  const log = (line: string) => print(`  · ${line}`);
  print('Segmenta demo');
  print('1/10 Infrastructure');
  const nats: NatsEndpoint = await ensureNats({ url: process.env.NATS_URL, log });
  print(`  NATS JetStream   ${nats.url} (${nats.source})`);
  const server = options.embedded ? undefined : await ensurePostgres({ url: process.env.DATABASE_URL, log });
  // The demo's own database and streams, emptied at the start of each run: every run tells the same story.
  const fresh = !options.keepData;
  const postgres = server?.url ? { url: await demoDatabase(server.url, fresh), source: server.source } : { url: undefined, source: 'embedded' as const };
  if (!postgres.url && fresh) rmSync(options.dataDir, { recursive: true, force: true });
  if (fresh) await emptyDemoStreams(nats.url, options.prefix);
  print(`  Database         ${postgres.url ? `PostgreSQL ${postgres.url.replace(/\/\/[^@]*@/, '//')}` : `embedded PGlite under ${options.dataDir}`} (${postgres.source})`);
  print(`  Demo data        ${fresh ? `started afresh (database and streams "${options.prefix}"; --keep-data keeps earlier runs)` : 'kept from earlier runs (--keep-data)'}`);

  print('2/10 Services');
  // The admin key the services accept: ADMIN_API_KEY when set, else one made for this run.
  const adminKey = process.env.ADMIN_API_KEY ?? randomBytes(24).toString('base64url');
  const services: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(services.map((service) => service.stop()));
    await nats.stop();
  };
  options.onStarted?.(stop);
  try {
    if (!postgres.url) {
      // One initdb for the five databases instead of five at once (about 5 s of CPU each).
      if (!readPgliteTemplate()) log('preparing the embedded database template (once per machine)');
      await ensurePgliteTemplate();
    }
    // Started together: each one's start-up (migrations, PGlite's first initialisation) is mostly waiting.
    const ports = await Promise.all(SERVICE_NAMES.map((name) => portFor(name, options.freePorts, print)));
    const startedAt = Date.now();
    const starting = new Set<string>(SERVICE_NAMES);
    // A loaded two-core machine needed over a minute for the five; say who is still starting rather than go quiet.
    const progress = setInterval(() => {
      if (starting.size) print(`  … still starting after ${Math.round((Date.now() - startedAt) / 1000)} s: ${[...starting].join(', ')}`);
    }, 15000);
    const results = await Promise.allSettled(
      SERVICE_NAMES.map(async (name, i) => {
        const service = await startServiceProcess({
          app: name,
          mode: options.mode,
          readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
          env: {
            PORT: String(ports[i]),
            NATS_URL: nats.url,
            NATS_PREFIX: options.prefix,
            DATABASE_URL: postgres.url,
            DATA_DIR: postgres.url ? undefined : join(options.dataDir, name),
            LOG_LEVEL: 'warn',
            ADMIN_API_KEY: adminKey,
            // The demo shop sells in euros; profiles keeps revenue in this currency's minor units.
            BASE_CURRENCY: process.env.BASE_CURRENCY ?? 'EUR',
            // offers' loyalty jobs every second: the demo's pending points become available while you watch.
            LOYALTY_JOBS_CRON: '* * * * * *',
          },
          onLine: (line) => {
            if (/"level":"(error|fatal)"/.test(line)) log(`${name}: ${line}`);
          },
        });
        services.push(service);
        starting.delete(name);
        print(`  ${name.padEnd(13)} ${service.url}  ready after ${((Date.now() - startedAt) / 1000).toFixed(1)} s   API docs ${service.url}/docs`);
        return service;
      }),
    );
    clearInterval(progress);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    services.sort((a, b) => SERVICE_NAMES.indexOf(a.name as ServiceName) - SERVICE_NAMES.indexOf(b.name as ServiceName));

    print('3/10 Health');
    const health: DemoResult['services'] = [];
    for (const service of services) {
      // The detail (driver, NATS) is told to an admin key only.
      const response = await fetch(`${service.url}/ready`, { headers: { authorization: `Bearer ${adminKey}` } });
      const body = (await response.json()) as { details?: Record<string, { status: string; driver?: string }> };
      const database = body.details?.database?.driver ?? '?';
      health.push({ name: service.name as ServiceName, url: service.url, ready: response.status === 200, database });
      print(`  ${service.name.padEnd(13)} ${response.status === 200 ? 'ready' : `NOT READY (${response.status})`}   database ${database}, nats ${body.details?.nats?.status ?? '?'}`);
    }

    print('4/10 A customer journey, sent with @segment/analytics-node: ingestion → JetStream → profiles');
    const ingestion = services.find((s) => s.name === 'ingestion') as ServiceProcess;
    const profiles = services.find((s) => s.name === 'profiles') as ServiceProcess;
    const sourceResponse = await fetch(`${ingestion.url}/v1/sources`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ name: 'Demo web shop' }),
    });
    if (sourceResponse.status !== 201) throw new Error(`creating a source failed with ${sourceResponse.status}: ${await sourceResponse.text()}`);
    const { writeKey } = (await sourceResponse.json()) as { writeKey: string };
    print(`  source "Demo web shop" created (admin key ${process.env.ADMIN_API_KEY ? 'from ADMIN_API_KEY' : adminKey}); its write key goes to the SDK`);
    const analytics = new Analytics({ writeKey, host: ingestion.url, flushAt: 1, flushInterval: 10 });
    const userId = `demo-customer-${randomUUID().slice(0, 8)}`;
    const anonymousId = `demo-device-${randomUUID().slice(0, 8)}`;
    const latencies: number[] = [];
    let stored = 0;
    // The customer signs up in the app (identify), browses the web shop before logging in (an
    // anonymous device), then logs in there: the first call with both ids merges the two profiles.
    const calls: Array<{ label: string; messageId: string; send: (messageId: string) => void }> = [
      {
        label: 'identify',
        messageId: randomUUID(),
        send: (messageId) => analytics.identify({ messageId, userId, traits: { email: `${userId}@example.com`, country: 'DE' } }),
      },
      {
        label: 'anonymous view',
        messageId: randomUUID(),
        send: (messageId) => analytics.track({ messageId, anonymousId, event: 'Product Viewed', properties: { category: 'lenses', sku: 'LEN-50', price: 249 } }),
      },
      ...SCENARIO.map((step) => ({
        label: step.event,
        messageId: randomUUID(),
        send: (messageId: string) => analytics.track({ messageId, userId, anonymousId, event: step.event, properties: step.properties }),
      })),
    ];
    for (const call of calls) {
      const sentAt = Date.now();
      call.send(call.messageId);
      await waitFor(async () => (await fetch(`${profiles.url}/v1/events/${call.messageId}`, { headers: { authorization: `Bearer ${adminKey}` } })).status === 200, {
        timeoutMs: 10000,
        intervalMs: 5,
        what: `${call.label} ${call.messageId} in profiles`,
      });
      latencies.push(Date.now() - sentAt);
      stored += 1;
      print(`  ${call.label.padEnd(16)} stored in profiles after ${String(Date.now() - sentAt).padStart(4)} ms`);
    }
    await analytics.closeAndFlush();
    const events = { sent: calls.length, stored, medianMs: median(latencies), maxMs: Math.max(...latencies) };
    print(`  ${stored}/${calls.length} calls of ${userId} stored once each; median ${events.medianMs} ms, max ${events.maxMs} ms from POST to profiles`);

    // The profile the calls built: one customer (the anonymous device merged in), with features.
    type ProfileBody = { id: string; traits: Record<string, unknown>; identities: Array<{ kind: string; value: string }>; features: Record<string, unknown>; mergedProfileIds: string[] };
    let profileBody: ProfileBody | undefined;
    await waitFor(
      async () => {
        const response = await fetch(`${profiles.url}/v1/profiles?userId=${encodeURIComponent(userId)}`, { headers: { authorization: `Bearer ${adminKey}` } });
        if (response.status !== 200) return false;
        profileBody = (await response.json()) as ProfileBody;
        return profileBody.features.orders === 1 && profileBody.identities.some((i) => i.kind === 'anonymous_id');
      },
      { timeoutMs: 10000, what: `the profile of ${userId} with its order and its anonymous device` },
    );
    const profile = profileBody as ProfileBody;
    const f = profile.features;
    print(`  profile ${profile.id}  (GET ${profiles.url}/v1/profiles?userId=${userId})`);
    print(
      `    identities   ${profile.identities.map((i) => `${i.kind}=${i.value}`).join(', ')}  (${profile.mergedProfileIds.length} profile${profile.mergedProfileIds.length === 1 ? '' : 's'} merged in)`,
    );
    print(
      `    traits       ${Object.entries(profile.traits)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}`,
    );
    print(
      `    features     orders ${String(f.orders)}, revenue ${(Number(f.revenue) / 100).toFixed(2)} ${String(f.currency)}, AOV ${(Number(f.aov) / 100).toFixed(2)}, recency ${String(f.recency_days)} d, lifecycle ${String(f.lifecycle_stage)}`,
    );
    const affinity = Object.entries((f.category_affinity ?? {}) as Record<string, number>).sort((a, b) => b[1] - a[1]);
    print(`    affinity     ${affinity.map(([category, score]) => `${category} ${score.toFixed(2)}`).join(', ')}  (top category ${String(f.top_category)})`);
    print('5/10 Segments: rules, the RFM grid and lifecycle stages (segmentation, fed by PROFILES)');
    const segmentation = services.find((s) => s.name === 'segmentation') as ServiceProcess;
    const segments = await showSegments({ segmentation, ingestion, profiles, adminKey, writeKey, customerProfileId: profile.id, print });
    print('6/10 Customer analytics: BG/NBD and Gamma-Gamma in profiles, discovered micro-segments and segment KPIs in segmentation');
    const insights = await showAnalytics({ segmentation, profiles, adminKey, print });
    print("7/10 Offers: a loyalty team's offer for a segment, served to the customer with a reserved code, redeemed at checkout (offers)");
    const offers = await showOffers({ offers: services.find((s) => s.name === 'offers') as ServiceProcess, adminKey, customerProfileId: profile.id, userId, print });
    print('8/10 Loyalty: points earned with the segment’s multiplier, pending then available, spent, clawed back on a refund; a tier reached at once opens its offer (offers)');
    const loyalty = await showLoyalty({ offers: services.find((s) => s.name === 'offers') as ServiceProcess, ingestion, adminKey, writeKey, customerProfileId: profile.id, userId, print });
    print('9/10 Journeys: camera fans this week get one signed e-mail with a unique code, redeemed at checkout; a capped customer is skipped; a points-expiring reminder (offers)');
    const journeys = await showJourneys({
      offers: services.find((s) => s.name === 'offers') as ServiceProcess,
      segmentation,
      ingestion,
      adminKey,
      writeKey,
      loyaltyProfileId: profile.id,
      print,
    });
    print(
      '10/10 Experiments and the loop: camera-intent customers split at checkout between free shipping and 10 % off; the lift net of the rewards’ cost, back in the segment’s KPIs (offers, experiments, segmentation)',
    );
    const experiment = await showExperiment({
      offers: services.find((s) => s.name === 'offers') as ServiceProcess,
      experiments: services.find((s) => s.name === 'experiments') as ServiceProcess,
      segmentation,
      ingestion,
      adminKey,
      writeKey,
      print,
    });
    if (options.keep) {
      // What a newcomer types next, ready to paste: the services answer now.
      const admin = process.env.ADMIN_API_KEY ? '$ADMIN_API_KEY' : adminKey;
      const url = (name: ServiceName) => (services.find((s) => s.name === name) as ServiceProcess).url;
      print('');
      print(`Ready: the five services keep running (${services.map((s) => `${s.name} ${s.url}`).join(', ')}).`);
      print("Send a first event with the demo source's write key, then look the customer up:");
      print(`  curl -s -u '${writeKey}:' -H 'content-type: application/json' \\`);
      print(`    -d '{"userId":"me-1","event":"Product Viewed","properties":{"category":"cameras"}}' ${url('ingestion')}/v1/track`);
      print(`  curl -s -H 'authorization: Bearer ${admin}' '${url('profiles')}/v1/profiles?userId=me-1'`);
      print(`  curl -s -H 'authorization: Bearer ${admin}' '${url('segmentation')}/v1/segments'`);
      print(`API docs: ${url('ingestion')}/docs (each service serves its own at /docs).`);
    }
    return {
      services: health,
      events,
      segments,
      analytics: insights,
      offers,
      loyalty,
      journeys,
      experiment,
      profile: { id: profile.id, identities: profile.identities.map((i) => `${i.kind}=${i.value}`), features: f },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export const DEFAULT_DATA_DIR = join(WORKSPACE_ROOT, '.data', 'demo');
