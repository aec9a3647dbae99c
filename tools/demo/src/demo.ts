import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { showAnalytics, showSegments } from './demo-segments';
import { SERVICE_NAMES, SERVICE_PORTS, type ServiceName } from '@segmenta/contracts';
import {
  WORKSPACE_ROOT,
  ensureNats,
  ensurePostgres,
  freePort,
  startServiceProcess,
  waitFor,
  type NatsEndpoint,
  type ServiceProcess,
} from '@segmenta/infra';

export interface DemoOptions {
  /** Use the embedded PGlite even when a PostgreSQL server is reachable. */
  embedded: boolean;
  /** Keep the services running after the scenario until Ctrl-C. */
  keep: boolean;
  /** Run the TypeScript sources (tests) instead of the `npm run build` output. */
  mode: 'dist' | 'source';
  /** Pick free ports instead of the standard 3001-3005 (tests). */
  freePorts: boolean;
  prefix: string;
  /** Where PGlite keeps each service's files. */
  dataDir: string;
  print: (line: string) => void;
}

export interface DemoResult {
  services: Array<{ name: ServiceName; url: string; ready: boolean; database: string }>;
  events: { sent: number; stored: number; medianMs: number; maxMs: number };
  profile: { id: string; identities: string[]; features: Record<string, unknown> };
  segments: { segments: Array<{ key: string; size: number }>; customerSegments: string[] };
  analytics: Awaited<ReturnType<typeof showAnalytics>>;
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

async function portFor(name: ServiceName, freePorts: boolean): Promise<number> {
  if (freePorts) return freePort();
  const standard = SERVICE_PORTS[name];
  // Another process holds the standard port: take a free one rather than fail.
  const taken = await fetch(`http://127.0.0.1:${standard}/health`).then(() => true, () => false);
  return taken ? freePort() : standard;
}

/**
 * The newcomer's first run: finds or starts NATS and PostgreSQL (or the embedded PGlite), starts
 * the five services, waits until each is ready, sends a customer's journey through ingestion and
 * shows it arriving in profiles.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult & { stop(): Promise<void> }> {
  const { print } = options;
  const log = (line: string) => print(`  · ${line}`);
  print('Segmenta demo');
  print('1/6 Infrastructure');
  const nats: NatsEndpoint = await ensureNats({ url: process.env.NATS_URL, log });
  print(`  NATS JetStream   ${nats.url} (${nats.source})`);
  const postgres = options.embedded ? { url: undefined, source: 'embedded' as const } : await ensurePostgres({ url: process.env.DATABASE_URL, log });
  print(`  Database         ${postgres.url ? `PostgreSQL ${postgres.url.replace(/\/\/[^@]*@/, '//')}` : `embedded PGlite under ${options.dataDir}`} (${postgres.source})`);

  print('2/6 Services');
  // The admin key the services accept: ADMIN_API_KEY when set, else one made for this run.
  const adminKey = process.env.ADMIN_API_KEY ?? randomBytes(24).toString('base64url');
  const services: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(services.map((service) => service.stop()));
    await nats.stop();
  };
  try {
    // Started together: each one's start-up (migrations, PGlite's first initialisation) is mostly waiting.
    const ports = await Promise.all(SERVICE_NAMES.map((name) => portFor(name, options.freePorts)));
    const startedAt = Date.now();
    const results = await Promise.allSettled(
      SERVICE_NAMES.map(async (name, i) => {
        const service = await startServiceProcess({
          app: name,
          mode: options.mode,
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
          },
          onLine: (line) => {
            if (/"level":"(error|fatal)"/.test(line)) log(`${name}: ${line}`);
          },
        });
        services.push(service);
        print(`  ${name.padEnd(13)} ${service.url}  ready after ${((Date.now() - startedAt) / 1000).toFixed(1)} s   API docs ${service.url}/docs`);
        return service;
      }),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    services.sort((a, b) => SERVICE_NAMES.indexOf(a.name as ServiceName) - SERVICE_NAMES.indexOf(b.name as ServiceName));

    print('3/6 Health');
    const health: DemoResult['services'] = [];
    for (const service of services) {
      const response = await fetch(`${service.url}/ready`);
      const body = (await response.json()) as { details?: Record<string, { status: string; driver?: string }> };
      const database = body.details?.database?.driver ?? '?';
      health.push({ name: service.name as ServiceName, url: service.url, ready: response.status === 200, database });
      print(`  ${service.name.padEnd(13)} ${response.status === 200 ? 'ready' : `NOT READY (${response.status})`}   database ${database}, nats ${body.details?.nats?.status ?? '?'}`);
    }

    print('4/6 A customer journey, sent with @segment/analytics-node: ingestion → JetStream → profiles');
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
    print(`    identities   ${profile.identities.map((i) => `${i.kind}=${i.value}`).join(', ')}  (${profile.mergedProfileIds.length} profile${profile.mergedProfileIds.length === 1 ? '' : 's'} merged in)`);
    print(`    traits       ${Object.entries(profile.traits).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
    print(`    features     orders ${String(f.orders)}, revenue ${(Number(f.revenue) / 100).toFixed(2)} ${String(f.currency)}, AOV ${(Number(f.aov) / 100).toFixed(2)}, recency ${String(f.recency_days)} d, lifecycle ${String(f.lifecycle_stage)}`);
    const affinity = Object.entries((f.category_affinity ?? {}) as Record<string, number>).sort((a, b) => b[1] - a[1]);
    print(`    affinity     ${affinity.map(([category, score]) => `${category} ${score.toFixed(2)}`).join(', ')}  (top category ${String(f.top_category)})`);
    print('5/6 Segments: rules, the RFM grid and lifecycle stages (segmentation, fed by PROFILES)');
    const segmentation = services.find((s) => s.name === 'segmentation') as ServiceProcess;
    const segments = await showSegments({ segmentation, ingestion, profiles, adminKey, writeKey, customerProfileId: profile.id, print });
    print('6/6 Customer analytics: BG/NBD and Gamma-Gamma in profiles, discovered micro-segments and segment KPIs in segmentation');
    const insights = await showAnalytics({ segmentation, profiles, adminKey, print });
    print('Offers and experiment results join this demo as those services gain their features.');
    return {
      services: health,
      events,
      segments,
      analytics: insights,
      profile: { id: profile.id, identities: profile.identities.map((i) => `${i.kind}=${i.value}`), features: f },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export const DEFAULT_DATA_DIR = join(WORKSPACE_ROOT, '.data', 'demo');
