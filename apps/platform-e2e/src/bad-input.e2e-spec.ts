import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import request from 'supertest';
import { startServiceProcess, waitFor, type ServiceProcess } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';

/**
 * Nothing that gets a 200 is lost downstream (issue 15), across processes against the real NATS and
 * PostgreSQL: hostile text (NUL, lone surrogates, emoji, control characters, long strings) in
 * every field of track and batch calls; whatever ingestion acknowledged, profiles stores as sent,
 * and nothing is dead-lettered; what it refused is not stored. Event times from absurd sentAt
 * values stay within the time of receipt.
 */
jest.setTimeout(240_000);

const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'e2ebad');
const ADMIN_API_KEY = `admin-${randomUUID()}`;
let database: TestDatabase;
let db: Client;
let nc: NatsConnection;
let ingestion: ServiceProcess;
let profiles: ServiceProcess;
let auth: string;

async function createSource(name: string): Promise<{ id: string; auth: string }> {
  const response = await request(ingestion.url).post('/v1/sources').set('authorization', `Bearer ${ADMIN_API_KEY}`).send({ name }).expect(201);
  return { id: response.body.id as string, auth: `Basic ${Buffer.from(`${response.body.writeKey}:`).toString('base64')}` };
}

async function deadLetters(): Promise<number> {
  const jsm = await nc.jetstreamManager();
  try {
    return (await jsm.streams.info(`${namespace.prefix}_DLQ`)).state.messages;
  } catch {
    return 0;
  }
}

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error('the e2e tests need a PostgreSQL server (DATABASE_URL)');
  database = await createTestDatabase();
  db = new Client({ connectionString: database.url });
  await db.connect();
  nc = await connect({ servers: natsUrl });
  const env = { NATS_URL: natsUrl, NATS_PREFIX: namespace.prefix, DATABASE_URL: database.url, LOG_LEVEL: 'warn', ADMIN_API_KEY, NATS_ACK_WAIT_MS: '2000' };
  // One after the other, with room: each compiles its sources on start, on a machine shared with the other suites.
  ingestion = await startServiceProcess({ app: 'ingestion', env, readyTimeoutMs: 90_000 });
  profiles = await startServiceProcess({ app: 'profiles', env, readyTimeoutMs: 90_000 });
  auth = (await createSource('hostile')).auth;
});

afterAll(async () => {
  await Promise.all([ingestion?.stop(), profiles?.stop()]);
  await nc?.close();
  await db?.end();
  await database?.drop();
  await namespace.cleanup();
});

/** Text from every corner: what PostgreSQL stores and what it cannot (NUL, lone surrogates). */
const text = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
  fc.constantFrom('Zoë', '東京', '😀', 'a\u0000b', '\u0000', '\ud800', 'x\udc00', '\ud83d\ude00', 'tab\t\u0001', '\\u0000', 'x'.repeat(190)),
);
const call = fc.record({
  userId: text,
  event: text,
  propertyKey: text,
  propertyValue: fc.oneof(text, fc.integer(), fc.constant(null)),
  viaBatch: fc.boolean(),
});

describe('what ingestion acknowledges, profiles stores', () => {
  it('stores every accepted event as sent, dead-letters none, and stores none it refused', async () => {
    const calls = fc.sample(call, { numRuns: 80, seed: 15 });
    const accepted = new Map<string, { userId: string; event: string; properties: Record<string, unknown> }>();
    const refused: string[] = [];
    for (const [i, c] of calls.entries()) {
      const messageId = `hostile-${i}-${randomUUID()}`;
      const body = { messageId, userId: c.userId, event: c.event, properties: { [c.propertyKey]: c.propertyValue } };
      const response = c.viaBatch
        ? await request(ingestion.url)
            .post('/v1/batch')
            .set('authorization', auth)
            .send({ batch: [{ type: 'track', ...body }] })
        : await request(ingestion.url).post('/v1/track').set('authorization', auth).send(body);
      expect(response.status).toBeLessThan(500);
      if (response.status === 200 && response.body.accepted === 1) accepted.set(messageId, { userId: body.userId, event: body.event, properties: body.properties });
      else refused.push(messageId);
    }
    // The sample holds both kinds, or the test proves nothing.
    expect(accepted.size).toBeGreaterThan(10);
    expect(refused.length).toBeGreaterThan(10);

    const ids = [...accepted.keys()];
    await waitFor(async () => (await db.query('select count(*)::int as n from profiles.events where id = any($1)', [ids])).rows[0].n === ids.length, {
      timeoutMs: 60_000,
      what: `${ids.length} accepted events in profiles.events`,
    });
    const rows = (
      await db.query<{ id: string; user_id: string; name: string; properties: Record<string, unknown> }>('select id, user_id, name, properties from profiles.events where id = any($1)', [ids])
    ).rows;
    for (const row of rows) {
      const sent = accepted.get(row.id);
      expect({ id: row.id, userId: row.user_id, event: row.name, properties: row.properties }).toEqual({ id: row.id, ...sent });
    }
    expect(await deadLetters()).toBe(0);
    expect((await db.query('select count(*)::int as n from profiles.events where id = any($1)', [refused])).rows[0].n).toBe(0);
  });
});

describe('event time', () => {
  it.each([
    ['1900-01-01T00:00:00.000Z', 'sentAt far in the past (the correction would be in the future)'],
    ['2999-01-01T00:00:00.000Z', 'sentAt far in the future (the correction would be centuries ago)'],
  ])('sentAt %s: %s; the event keeps the time of receipt and the profile never lives in the future', async (sentAt) => {
    const messageId = `skew-${randomUUID()}`;
    const userId = `skew-user-${randomUUID()}`;
    const before = Date.now();
    await request(ingestion.url).post('/v1/track').set('authorization', auth).send({ messageId, userId, event: 'Skewed', timestamp: new Date().toISOString(), sentAt }).expect(200);
    const after = Date.now();
    await waitFor(async () => (await db.query('select 1 from profiles.events where id = $1', [messageId])).rowCount === 1, { timeoutMs: 30_000, what: 'the skewed event' });
    const row = (await db.query<{ occurred_at: Date; received_at: Date; profile_id: string }>('select occurred_at, received_at, profile_id from profiles.events where id = $1', [messageId])).rows[0];
    expect(row.occurred_at.getTime()).toBe(row.received_at.getTime());
    expect(row.occurred_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(row.occurred_at.getTime()).toBeLessThanOrEqual(after + 1000);
    const features = (await db.query<{ last_seen: Date }>('select last_seen from profiles.profile_features where profile_id = $1', [row.profile_id])).rows[0];
    expect(features.last_seen.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe('messageId de-duplication', () => {
  it("is per source: source B reusing source A's messageId is stored too; a retry within a source is stored once", async () => {
    const other = await createSource('other');
    const messageId = `shared-${randomUUID()}`;
    await request(ingestion.url).post('/v1/track').set('authorization', auth).send({ messageId, userId: 'shared-a', event: 'From A' }).expect(200);
    await request(ingestion.url).post('/v1/track').set('authorization', other.auth).send({ messageId, userId: 'shared-b', event: 'From B' }).expect(200);
    await request(ingestion.url).post('/v1/track').set('authorization', auth).send({ messageId, userId: 'shared-a', event: 'From A' }).expect(200);
    await waitFor(async () => (await db.query('select 1 from profiles.events where id = $1', [messageId])).rowCount === 2, { timeoutMs: 30_000, what: "both sources' events" });
    const rows = (await db.query<{ name: string; source_id: string }>('select name, source_id from profiles.events where id = $1 order by name', [messageId])).rows;
    expect(rows).toEqual([
      { name: 'From A', source_id: expect.any(String) },
      { name: 'From B', source_id: other.id },
    ]);
    expect(rows[0].source_id).not.toBe(other.id);
  });
});
