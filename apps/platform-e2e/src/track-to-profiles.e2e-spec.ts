import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { startServiceProcess, waitFor, type ServiceProcess } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';

/**
 * The first vertical slice, with each service as its own OS process on a random port against the
 * real NATS and PostgreSQL: POST /v1/track on ingestion → EVENTS stream → profiles → its database.
 */
const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'e2e');
let database: TestDatabase;
let db: Client;
let ingestion: ServiceProcess;
const running = new Set<ServiceProcess>();

function serviceEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    NATS_URL: natsUrl,
    NATS_PREFIX: namespace.prefix,
    DATABASE_URL: database.url,
    // Redeliver quickly after the crash below.
    NATS_ACK_WAIT_MS: '2000',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

async function start(app: string): Promise<ServiceProcess> {
  const service = await startServiceProcess({ app, env: serviceEnv() });
  running.add(service);
  return service;
}

async function storedEvents(): Promise<{ total: number; distinct: number }> {
  const result = await db.query<{ total: string; distinct: string }>(
    'select count(*) as total, count(distinct id) as distinct from profiles.events',
  );
  return { total: Number(result.rows[0].total), distinct: Number(result.rows[0].distinct) };
}

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error('the e2e tests need a PostgreSQL server (DATABASE_URL)');
  database = await createTestDatabase();
  db = new Client({ connectionString: database.url });
  await db.connect();
  ingestion = await start('ingestion');
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
      .send({ messageId, userId: 'user-42', event: 'Order Completed', properties: { revenue: 59.9, currency: 'EUR' } })
      .expect(200);
    expect(response.body).toEqual({ success: true, messageId });

    await waitFor(async () => (await db.query('select 1 from profiles.events where id = $1', [messageId])).rowCount === 1, {
      timeoutMs: 10000,
      what: 'the event in profiles.events',
    });
    const row = (await db.query('select user_id, name, properties from profiles.events where id = $1', [messageId])).rows[0];
    expect(row).toEqual({ user_id: 'user-42', name: 'Order Completed', properties: { revenue: 59.9, currency: 'EUR' } });

    const viaApi = await request(profiles.url).get(`/v1/events/${messageId}`).expect(200);
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
          request(ingestion.url).post('/v1/track').send({ messageId, anonymousId: `anon-${(i + j) % 97}`, event: 'Product Viewed' }).expect(200),
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
      await request(ingestion.url).post('/v1/track').send({ messageId, userId: 'late-user', event: 'Order Completed' }).expect(200);
    }
    // A client retry of an already accepted event (same messageId) must not be stored twice.
    await request(ingestion.url).post('/v1/track').send({ messageId: ids[0], anonymousId: 'anon-0', event: 'Product Viewed' }).expect(200);

    await start('profiles');
    const expected = total + lateIds.length;
    await waitFor(async () => (await storedEvents()).total >= expected, { timeoutMs: 60000, what: `${expected} stored events` });
    const stored = await storedEvents();
    expect(stored).toEqual({ total: expected, distinct: expected });
    const missing = await db.query('select id from unnest($1::text[]) as id where id not in (select id from profiles.events)', [[...ids, ...lateIds]]);
    expect(missing.rows).toEqual([]);
  });
});
