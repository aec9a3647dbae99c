import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Client } from 'pg';
import request from 'supertest';
import { freePort, startServiceProcess, waitFor, type ServiceProcess } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';

/**
 * The first vertical slice, with each service as its own OS process on a random port against the
 * real NATS and PostgreSQL: POST /v1/track on ingestion → EVENTS stream → profiles → its database.
 */
// Services start as processes; the crash test pushes 1,500 events through them.
jest.setTimeout(120_000);

const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'e2e');
let database: TestDatabase;
let db: Client;
let ingestion: ServiceProcess;
const ADMIN_API_KEY = `admin-${randomUUID()}`;
/** Basic auth with the write key of the source created in beforeAll. */
let auth: string;

/** Creates a source on `service` (ingestion) and returns the Basic auth header of its write key. */
async function createSource(service: ServiceProcess, name: string): Promise<string> {
  const response = await request(service.url).post('/v1/sources').set('authorization', `Bearer ${ADMIN_API_KEY}`).send({ name }).expect(201);
  return `Basic ${Buffer.from(`${response.body.writeKey}:`).toString('base64')}`;
}
const running = new Set<ServiceProcess>();

function serviceEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    NATS_URL: natsUrl,
    NATS_PREFIX: namespace.prefix,
    DATABASE_URL: database.url,
    // Redeliver quickly after the crash below.
    NATS_ACK_WAIT_MS: '2000',
    LOG_LEVEL: 'warn',
    ADMIN_API_KEY,
    ...extra,
  };
}

async function start(app: string, extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = await startServiceProcess({ app, env: serviceEnv(extra) });
  running.add(service);
  return service;
}

async function storedEvents(): Promise<{ total: number; distinct: number }> {
  const result = await db.query<{ total: string; distinct: string }>('select count(*) as total, count(distinct id) as distinct from profiles.events');
  return { total: Number(result.rows[0].total), distinct: Number(result.rows[0].distinct) };
}

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error('the e2e tests need a PostgreSQL server (DATABASE_URL)');
  database = await createTestDatabase();
  db = new Client({ connectionString: database.url });
  await db.connect();
  ingestion = await start('ingestion');
  auth = await createSource(ingestion, 'e2e');
});

afterAll(async () => {
  await Promise.all([...running].map((service) => service.stop()));
  await db?.end();
  await database?.drop();
  await namespace.cleanup();
});

describe('track → profiles, across processes', () => {
  it('stores an event posted to ingestion in the profiles database', async () => {
    const profiles = await start('profiles');
    const messageId = `e2e-${randomUUID()}`;
    const response = await request(ingestion.url)
      .post('/v1/track')
      .set('authorization', auth)
      .send({ messageId, userId: 'user-42', event: 'Order Completed', properties: { revenue: 59.9, currency: 'EUR' } })
      .expect(200);
    expect(response.body).toEqual({ success: true, accepted: 1, rejected: [] });

    await waitFor(async () => (await db.query('select 1 from profiles.events where id = $1', [messageId])).rowCount === 1, {
      timeoutMs: 10000,
      what: 'the event in profiles.events',
    });
    const row = (await db.query('select user_id, name, properties from profiles.events where id = $1', [messageId])).rows[0];
    expect(row).toEqual({ user_id: 'user-42', name: 'Order Completed', properties: { revenue: 59.9, currency: 'EUR' } });

    const viaApi = await request(profiles.url).get(`/v1/events/${messageId}`).set('authorization', `Bearer ${ADMIN_API_KEY}`).expect(200);
    expect(viaApi.body).toMatchObject({ id: messageId, type: 'track', name: 'Order Completed', userId: 'user-42' });

    // Graceful shutdown: SIGTERM drains the consumer and closes the pool, then exits 0.
    expect(await profiles.stop()).toBe(0);
    running.delete(profiles);
  });

  it('loses no event and applies none twice when profiles is killed mid-stream and restarted', async () => {
    await db.query('truncate profiles.events');
    const total = 1500;
    const ids = Array.from({ length: total }, (_, i) => `crash-${i}-${randomUUID()}`);
    // Everything is durable on the stream before profiles starts consuming.
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((messageId, j) =>
          request(ingestion.url)
            .post('/v1/track')
            .set('authorization', auth)
            .send({ messageId, anonymousId: `anon-${(i + j) % 97}`, event: 'Product Viewed' })
            .expect(200),
        ),
      );
    }

    const first = await start('profiles');
    await waitFor(async () => (await storedEvents()).total >= 100, { timeoutMs: 30000, what: '100 stored events' });
    await first.kill();
    running.delete(first);
    const atCrash = (await storedEvents()).total;
    expect(atCrash).toBeGreaterThan(0);
    expect(atCrash).toBeLessThan(total);

    // Some posts while profiles is down: they wait on the stream.
    const lateIds = [`late-${randomUUID()}`, `late-${randomUUID()}`];
    for (const messageId of lateIds) {
      await request(ingestion.url).post('/v1/track').set('authorization', auth).send({ messageId, userId: 'late-user', event: 'Order Completed' }).expect(200);
    }
    // A client retry of an already accepted event (same messageId) must not be stored twice.
    await request(ingestion.url).post('/v1/track').set('authorization', auth).send({ messageId: ids[0], anonymousId: 'anon-0', event: 'Product Viewed' }).expect(200);

    await start('profiles');
    const expected = total + lateIds.length;
    await waitFor(async () => (await storedEvents()).total >= expected, { timeoutMs: 60000, what: `${expected} stored events` });
    const stored = await storedEvents();
    expect(stored).toEqual({ total: expected, distinct: expected });
    const missing = await db.query('select id from unnest($1::text[]) as id where id not in (select id from profiles.events)', [[...ids, ...lateIds]]);
    expect(missing.rows).toEqual([]);
  });
});

interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

/** A minimal OTLP/HTTP (JSON) trace receiver: what a collector would get from the services. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{
          resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
          scopeSpans: Array<{ spans: Array<{ name: string; traceId: string; spanId: string; parentSpanId?: string }> }>;
        }>;
      };
      for (const resourceSpans of body.resourceSpans) {
        const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) spans.push({ service, ...span });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, spans, server };
}

describe('tracing across processes', () => {
  it('continues one trace from the HTTP request through ingestion, JetStream and profiles', async () => {
    for (const service of [...running]) {
      if (service.name === 'profiles') {
        await service.stop();
        running.delete(service);
      }
    }
    const receiver = await startOtlpReceiver();
    try {
      const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
      const tracedIngestion = await start('ingestion', otel);
      await start('profiles', otel);
      const traceId = randomBytes(16).toString('hex');
      const messageId = `traced-${randomUUID()}`;
      await request(tracedIngestion.url)
        .post('/v1/track')
        .set('authorization', await createSource(tracedIngestion, 'traced'))
        .set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`)
        .send({ messageId, userId: 'traced-user', event: 'Product Added' })
        .expect(200);
      // Each process exports on its own schedule: ingestion's publish span may arrive after profiles' consumer span.
      const exported = (service: string, name: string) => receiver.spans.some((s) => s.service === service && s.traceId === traceId && s.name === name);
      const httpSpan = () => receiver.spans.some((s) => s.service === 'ingestion' && s.traceId === traceId && /POST/.test(s.name));
      await waitFor(() => exported('profiles', 'process events.track') && exported('ingestion', 'publish events.track') && httpSpan(), {
        timeoutMs: 15000,
        what: "profiles' consumer span and ingestion's publish and HTTP spans in the caller's trace",
      });
      const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
      const publish = inTrace.find((s) => s.service === 'ingestion' && s.name === 'publish events.track');
      const consume = inTrace.find((s) => s.service === 'profiles' && s.name === 'process events.track');
      expect(publish).toBeDefined();
      expect(consume?.parentSpanId).toBe(publish?.spanId);
      // The HTTP server span of ingestion is in the same trace (auto-instrumentation in the child process).
      expect(inTrace.some((s) => s.service === 'ingestion' && /POST/.test(s.name))).toBe(true);
    } finally {
      receiver.server.close();
    }
  });
});
