import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { startPlatform, type Platform } from './platform-fixture';

/**
 * Erasure reaches everything (issue 15, ADR 14): after DELETE /v1/profiles/:id no stream and no
 * table holds the person's identifiers, whichever service put them there.
 */
jest.setTimeout(150_000);

const codec = JSONCodec<unknown>();
let platform: Platform;
let nc: NatsConnection;

beforeAll(async () => {
  platform = await startPlatform('era', ['ingestion', 'profiles', 'segmentation']);
  nc = await connect({ servers: process.env.NATS_URL as string });
});

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

/** Where each needle still occurs: `<stream> #<seq>` for stream messages, `<schema>.<table>` for rows. */
async function whereFound(needles: string[]): Promise<string[]> {
  const lower = needles.map((needle) => needle.toLowerCase());
  const found: string[] = [];
  const jsm = await nc.jetstreamManager();
  for await (const stream of jsm.streams.names()) {
    if (!stream.startsWith(`${platform.prefix}_`)) continue;
    for (let seq = 1; ;) {
      const stored = await jsm.streams.getMessage(stream, { next_by_subj: '>', seq } as unknown as { seq: number }).catch(() => undefined);
      if (!stored) break;
      const text = `${new TextDecoder().decode(stored.data)} ${stored.header ? JSON.stringify([...stored.header]) : ''}`.toLowerCase();
      for (const needle of lower) if (text.includes(needle)) found.push(`${stream} #${stored.seq} (${needle})`);
      seq = stored.seq + 1;
    }
  }
  const tables = await platform.db.query<{ schema: string; name: string }>(
    `select table_schema as schema, table_name as name from information_schema.tables where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
  );
  for (const { schema, name } of tables.rows) {
    const rows = await platform.db.query<{ row: string }>(`select t::text as row from "${schema}"."${name}" t`);
    for (const { row } of rows.rows) for (const needle of lower) if (row.toLowerCase().includes(needle)) found.push(`${schema}.${name} (${needle})`);
  }
  return [...new Set(found)];
}

describe('erasure, across services', () => {
  it('leaves none of the person’s identifiers in any stream or any table', async () => {
    const [ingestion, profiles, segmentation] = platform.services;
    const { admin, db } = platform;
    const source = (await request(ingestion.url).post('/v1/sources').set(admin).send({ name: 'erasure' }).expect(201)).body;
    const write = { authorization: `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}` };
    const id = randomUUID().slice(0, 8);
    const person = {
      userId: `erase-me-${id}`,
      anonymousId: `erase-device-${id}`,
      email: `Erase.Me.${id}@Example.com`,
      phone: `+44 7700 9${id.replace(/\D/g, '0').slice(0, 5)}`,
      name: `Erasa Ble${id}`,
      city: `Eraseton${id}`,
    };
    const other = { userId: `keep-me-${id}`, email: `keep.me.${id}@example.com` };
    const calls = [
      { type: 'page', anonymousId: person.anonymousId, name: 'Home' },
      { type: 'identify', anonymousId: person.anonymousId, userId: person.userId, traits: { email: person.email, phone: person.phone, name: person.name, address: { city: person.city } } },
      { type: 'track', userId: person.userId, event: 'Product Viewed', properties: { category: 'cameras', note: `for ${person.name}` } },
      {
        type: 'track',
        userId: person.userId,
        event: 'Order Completed',
        properties: { orderId: `o-${id}`, revenue: 120, currency: 'EUR', products: [{ category: 'cameras', price: 120, quantity: 1 }] },
      },
      { type: 'identify', userId: other.userId, traits: { email: other.email } },
    ].map((call) => ({ ...call, messageId: `erasure-${randomUUID()}` }));
    await request(ingestion.url).post('/v1/batch').set(write).send({ batch: calls }).expect(200);
    await waitFor(async () => (await request(profiles.url).get(`/v1/profiles?userId=${other.userId}`).set(admin)).status === 200, { timeoutMs: 30_000, what: 'the profiles' });
    const profile = (await request(profiles.url).get(`/v1/profiles?userId=${person.userId}`).set(admin).expect(200)).body;
    await waitFor(
      async () => {
        const { rows } = await db.query('select 1 from segmentation.profile_view where profile_id = $1', [profile.id]);
        return rows.length === 1;
      },
      { timeoutMs: 30_000, what: 'the profile in segmentation’s read model' },
    );
    // A dead letter that quotes the person (a message a consumer gave up on).
    await nc
      .jetstream()
      .publish(`${platform.prefix}.DLQ.EVENTS.profiles-events`, codec.encode(createEnvelope('track', { userId: person.userId, traits: { email: person.email } }, { id: `dead-${id}` })));
    const needles = [person.userId, person.anonymousId, person.email, person.phone, person.name, person.city];
    // Before: the person is everywhere, so the search below can find them.
    const before = await whereFound(needles);
    expect(before.some((where) => where.startsWith(`${platform.prefix}_EVENTS`))).toBe(true);
    expect(before.some((where) => where.startsWith(`${platform.prefix}_PROFILES`))).toBe(true);
    expect(before.some((where) => where.startsWith(`${platform.prefix}_DLQ`))).toBe(true);
    expect(before.some((where) => where.startsWith('profiles.events'))).toBe(true);
    expect(before.some((where) => where.startsWith('segmentation.profile_view'))).toBe(true);

    await request(profiles.url).delete(`/v1/profiles/${profile.id}`).set(admin).expect(200);
    let left: string[] = before;
    await waitFor(
      async () => {
        left = await whereFound(needles);
        return left.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: `the person gone from every stream and table (still in: ${left.join(', ')})` },
    ).catch(() => undefined);
    expect(left).toEqual([]);
    // The other customer is untouched.
    await request(profiles.url).get(`/v1/profiles?userId=${other.userId}`).set(admin).expect(200);
    expect((await whereFound([other.email])).some((where) => where.startsWith(`${platform.prefix}_EVENTS`))).toBe(true);
    // Segmentation still answers: the erased profile left its read model without breaking it.
    await request(segmentation.url).get('/v1/segments').set(admin).expect(200);
  });
});
