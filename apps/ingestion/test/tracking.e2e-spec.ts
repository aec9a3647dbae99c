import { JSONCodec, connect, type NatsConnection } from 'nats';
import { firstValueFrom, timeout } from 'rxjs';
import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import type { Envelope, SegmentMessageV1 } from '@segmenta/contracts';
import { startPrivateNats } from '@segmenta/infra';
import { PrefixedNatsClient } from '@segmenta/messaging';
import { startIngestion } from '../src/start';

const ADMIN_KEY = 'test-admin-key-0123456789';
const natsUrl = process.env.NATS_URL as string;
let service: ServiceUnderTest;
let nc: NatsConnection;
let http: ReturnType<typeof request>;
let writeKey: string;
let sourceId: string;

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const post = (path: string, body: unknown, key: string | null = writeKey) => {
  const req = http.post(path).send(body as object);
  return key === null ? req : req.set('authorization', basic(key));
};

async function streamCount(): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(`${service.prefix}_EVENTS`)).state.messages;
}

/** The message last stored on `events.<type>`. */
async function lastStored(type: string): Promise<{ msgId: string; envelope: Envelope<SegmentMessageV1> }> {
  const jsm = await nc.jetstreamManager();
  const stored = await jsm.streams.getMessage(`${service.prefix}_EVENTS`, { last_by_subj: `${service.prefix}.events.${type}` });
  return { msgId: stored.header.get('Nats-Msg-Id'), envelope: JSONCodec<Envelope<SegmentMessageV1>>().decode(stored.data) };
}

beforeAll(async () => {
  service = await startServiceUnderTest(startIngestion, { label: 'ing', env: { ADMIN_API_KEY: ADMIN_KEY } });
  http = request(service.app.getHttpServer());
  nc = await connect({ servers: natsUrl });
  const created = await http.post('/v1/sources').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name: 'Web shop' }).expect(201);
  writeKey = created.body.writeKey;
  sourceId = created.body.id;
});

afterAll(async () => {
  await nc?.close();
  await service?.close();
});

describe('sources and write keys (admin)', () => {
  it('creates a source whose key is shown once and never listed', async () => {
    expect(writeKey).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const list = await http.get('/v1/sources').set('authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    expect(list.body).toEqual([{ id: sourceId, name: 'Web shop', enabled: true, createdAt: expect.any(String) }]);
    expect(JSON.stringify(list.body)).not.toContain(writeKey);
  });

  it('refuses the admin API without the admin key', async () => {
    const response = await http.post('/v1/sources').send({ name: 'x' }).expect(401);
    expect(response.body.details).toEqual([{ field: 'authorization', problem: 'missing Bearer token' }]);
    await http.get('/v1/sources').set('authorization', 'Bearer wrong-key-wrong-key-wrong').expect(401);
    await http.post('/v1/sources').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name: '' }).expect(400);
  });

  it('answers 401 to a disabled source and accepts it again once re-enabled', async () => {
    const other = await http.post('/v1/sources').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name: 'Old app' }).expect(201);
    await post('/v1/track', { userId: 'u', event: 'Opened' }, other.body.writeKey).expect(200);
    await http.patch(`/v1/sources/${other.body.id}`).set('authorization', `Bearer ${ADMIN_KEY}`).send({ enabled: false }).expect(200);
    const refused = await post('/v1/track', { userId: 'u', event: 'Opened' }, other.body.writeKey).expect(401);
    expect(refused.body.message).toBe('This source is disabled');
    await http.patch(`/v1/sources/${other.body.id}`).set('authorization', `Bearer ${ADMIN_KEY}`).send({ enabled: true }).expect(200);
    await post('/v1/track', { userId: 'u', event: 'Opened' }, other.body.writeKey).expect(200);
  });

  it('rotates a key: the old one stops working, the new one works', async () => {
    const other = await http.post('/v1/sources').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name: 'Rotating' }).expect(201);
    const rotated = await http.post(`/v1/sources/${other.body.id}/rotate-key`).set('authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    await post('/v1/track', { userId: 'u', event: 'Opened' }, other.body.writeKey).expect(401);
    await post('/v1/track', { userId: 'u', event: 'Opened' }, rotated.body.writeKey).expect(200);
  });
});

describe('write-key auth', () => {
  it('accepts the key as Basic auth user name or as writeKey in the body', async () => {
    await post('/v1/track', { userId: 'u1', event: 'A' }).expect(200);
    await post('/v1/track', { userId: 'u1', event: 'B', writeKey }, null).expect(200);
  });

  it('answers 401 without a key or with an unknown one, and publishes nothing', async () => {
    const before = await streamCount();
    expect((await post('/v1/track', { userId: 'u1', event: 'A' }, null).expect(401)).body.details).toEqual([{ field: 'writeKey', problem: 'missing' }]);
    expect((await post('/v1/track', { userId: 'u1', event: 'A' }, 'not-a-key').expect(401)).body.message).toBe('Unknown write key');
    expect(await streamCount()).toBe(before);
  });
});

describe('the Segment calls', () => {
  it.each([
    ['identify', { userId: 'u-9', traits: { email: 'ada@example.com', plan: 'gold' } }, { traits: { email: 'ada@example.com', plan: 'gold' } }],
    [
      'track',
      { anonymousId: 'a-9', event: 'Order Completed', properties: { revenue: 49.9, currency: 'EUR', products: [{ category: 'cameras', price: 49.9, quantity: 1 }] } },
      { event: 'Order Completed', properties: { revenue: 49.9, currency: 'EUR', products: [{ category: 'cameras', price: 49.9, quantity: 1 }] } },
    ],
    ['page', { userId: 'u-9', name: 'Cameras', category: 'Shop', properties: { path: '/cameras' } }, { name: 'Cameras', category: 'Shop', properties: { path: '/cameras' } }],
    ['screen', { userId: 'u-9', name: 'Basket', properties: { items: 2 } }, { name: 'Basket', properties: { items: 2 } }],
    ['group', { userId: 'u-9', groupId: 'acme', traits: { employees: 40 } }, { groupId: 'acme', traits: { employees: 40 } }],
    ['alias', { userId: 'u-9', previousId: 'a-9' }, { previousId: 'a-9' }],
  ])('%s is stored on events.%s with its fields, keyed by source and messageId', async (type, body, expected) => {
    const messageId = `${type}-${Date.now()}`;
    const response = await post(`/v1/${type}`, { messageId, ...body, context: { ip: '203.0.113.9' } }).expect(200);
    expect(response.body).toEqual({ success: true, accepted: 1, rejected: [] });
    const { msgId, envelope } = await lastStored(type);
    // De-duplication is per source (ADR 15).
    expect(msgId).toBe(`${sourceId}:${messageId}`);
    expect(envelope).toMatchObject({ id: `${sourceId}:${messageId}`, type });
    expect(envelope.data).toMatchObject({ messageId, type, sourceId, context: { ip: '203.0.113.9' }, ...expected });
  });

  it('corrects the timestamp of a device whose clock is wrong, as Segment does', async () => {
    // The device clock is exactly one day ahead; the event happened 2 s before it was sent.
    const deviceNow = Date.now() + 86_400_000;
    const before = Date.now();
    await post('/v1/track', {
      messageId: 'skewed-1',
      userId: 'u',
      event: 'Skewed',
      timestamp: new Date(deviceNow - 2000).toISOString(),
      sentAt: new Date(deviceNow).toISOString(),
    }).expect(200);
    const { envelope } = await lastStored('track');
    const corrected = Date.parse(envelope.data.timestamp);
    expect(corrected).toBeGreaterThanOrEqual(before - 2000 - 50);
    expect(corrected).toBeLessThanOrEqual(Date.now() - 2000 + 50);
    expect(envelope.data.originalTimestamp).toBe(new Date(deviceNow - 2000).toISOString());
    expect(envelope.occurredAt).toBe(envelope.data.timestamp);
  });

  it('stores a repeated messageId once', async () => {
    const before = await streamCount();
    const body = { messageId: 'retry-1', userId: 'u-2', event: 'Product Added' };
    await post('/v1/track', body).expect(200);
    await post('/v1/track', body).expect(200);
    expect(await streamCount()).toBe(before + 1);
  });

  it.each([
    ['/v1/track', { userId: 'u' }, 'event'],
    ['/v1/track', { event: 'Signed Up' }, 'userId'],
    ['/v1/track', { event: 'Signed Up', userId: '' }, 'userId'],
    ['/v1/track', { event: 'Signed Up', anonymousId: 'a', properties: 'cheap' }, 'properties'],
    ['/v1/track', { event: 'Signed Up', anonymousId: 'a', timestamp: 'yesterday' }, 'timestamp'],
    ['/v1/group', { userId: 'u' }, 'groupId'],
    ['/v1/alias', { userId: 'u' }, 'previousId'],
    ['/v1/identify', { userId: 'u', traits: ['gold'] }, 'traits'],
  ])('%s rejects %j with a 400 naming %s and publishes nothing', async (path, body, field) => {
    const before = await streamCount();
    const response = await post(path, body).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(response.body.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(response.body.message).toContain(field);
    expect(await streamCount()).toBe(before);
  });

  it('answers a message over 32 KB with 413 and publishes nothing', async () => {
    const before = await streamCount();
    const response = await post('/v1/track', { userId: 'u', event: 'Big', properties: { blob: 'x'.repeat(33 * 1024) } }).expect(413);
    expect(response.body.message).toMatch(/at most 32768 bytes/);
    expect(await streamCount()).toBe(before);
  });

  it('answers malformed JSON with the API error shape', async () => {
    const response = await http.post('/v1/track').set('authorization', basic(writeKey)).set('content-type', 'application/json').send('{"event":').expect(400);
    expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^Malformed JSON in request body/), details: [] });
  });
});

describe('POST /v1/batch', () => {
  it('stores every valid member and lists the rejected ones with their paths', async () => {
    const before = await streamCount();
    const response = await post('/v1/batch', {
      sentAt: new Date().toISOString(),
      context: { library: { name: 'test' } },
      batch: [
        { type: 'identify', messageId: 'b-1', userId: 'u-5', traits: { name: 'Ada' } },
        { type: 'track', messageId: 'b-2', userId: 'u-5', event: 'Product Viewed', properties: { category: 'lenses' } },
        { type: 'track', messageId: 'b-3', userId: 'u-5' },
        { type: 'teleport', messageId: 'b-4', userId: 'u-5' },
        { type: 'page', messageId: 'b-5', anonymousId: 'a-5', name: 'Home' },
        { type: 'track', messageId: 'b-6', userId: 'u-5', event: 'Huge', properties: { blob: 'y'.repeat(33 * 1024) } },
      ],
    }).expect(200);
    expect(response.body.accepted).toBe(3);
    expect(response.body.rejected).toEqual([
      { index: 2, messageId: 'b-3', details: [expect.objectContaining({ field: 'batch[2].event' })] },
      { index: 3, messageId: 'b-4', details: [{ field: 'batch[3].type', problem: 'type must be one of identify, track, page, screen, group, alias' }] },
      { index: 5, messageId: 'b-6', details: [{ field: 'batch[5]', problem: expect.stringMatching(/larger than 32 KB/) }] },
    ]);
    expect(await streamCount()).toBe(before + 3);
    const { envelope } = await lastStored('page');
    expect(envelope.data).toMatchObject({ messageId: 'b-5', context: { library: { name: 'test' } } });
  });

  it('answers 400 when no member is valid, naming each bad field, and stores nothing', async () => {
    const before = await streamCount();
    const response = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u' }, { type: 'identify' }] }).expect(400);
    expect(response.body.details.map((d: { field: string }) => d.field)).toEqual(['batch[0].event', 'batch[1].userId', 'batch[1].anonymousId']);
    expect(await streamCount()).toBe(before);
    expect((await post('/v1/batch', { batch: [] }).expect(400)).body.details).toEqual([{ field: 'batch', problem: 'batch must not be empty' }]);
    expect((await post('/v1/batch', { batch: 'nope' }).expect(400)).body.details).toEqual([{ field: 'batch', problem: 'batch must be an array' }]);
    expect((await post('/v1/batch', { batch: [{ type: 'track', userId: 'u', event: 'E' }], sentAt: 'later' }).expect(400)).body.details).toEqual([
      { field: 'sentAt', problem: 'sentAt must be an ISO-8601 date-time' },
    ]);
    expect((await post('/v1/batch', [{ type: 'track' }]).expect(400)).body.details).toEqual([{ field: 'body', problem: 'must be a JSON object with a batch array' }]);
    expect(await streamCount()).toBe(before);
  });

  it('rejects a member that is not an object and keeps the others', async () => {
    const response = await post('/v1/batch', { batch: ['text', { type: 'track', messageId: 'b-obj', userId: 'u-6', event: 'Kept' }, null] }).expect(200);
    expect(response.body).toEqual({
      success: true,
      accepted: 1,
      rejected: [
        { index: 0, details: [{ field: 'batch[0]', problem: 'each member of batch must be an object' }] },
        { index: 2, details: [{ field: 'batch[2]', problem: 'each member of batch must be an object' }] },
      ],
    });
  });

  it('answers a batch over 500 KB with 413', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({ type: 'track', userId: 'u', event: 'Bulk', messageId: `bulk-${i}`, properties: { blob: 'z'.repeat(30 * 1024) } }));
    const response = await post('/v1/batch', { batch }).expect(413);
    expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });
});

describe('service basics', () => {
  it('documents the whole API in OpenAPI at /docs', async () => {
    const response = await http.get('/docs/openapi.json').expect(200);
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining(['/v1/batch', '/v1/identify', '/v1/track', '/v1/page', '/v1/screen', '/v1/group', '/v1/alias', '/v1/sources', '/health', '/ready']),
    );
    expect(response.body.components.schemas.TrackDto.required).toEqual(['event']);
  });

  it('answers ingestion.ping over request/reply under its own prefix, and not under another', async () => {
    const client = new PrefixedNatsClient(service.prefix, { servers: [natsUrl] });
    const stranger = new PrefixedNatsClient(`${service.prefix}x`, { servers: [natsUrl] });
    try {
      await expect(firstValueFrom(client.send('ingestion.ping', {}).pipe(timeout(5000)))).resolves.toEqual({ service: 'ingestion', status: 'ok' });
      await expect(firstValueFrom(stranger.send('ingestion.ping', {}).pipe(timeout(1000)))).rejects.toThrow();
    } finally {
      await client.close();
      await stranger.close();
    }
  });
});

describe('when NATS is down', () => {
  it('answers 503 instead of accepting what it cannot store, and /ready says why', async () => {
    const privateNats = await startPrivateNats();
    const isolated = await startServiceUnderTest(startIngestion, {
      label: 'down',
      env: { NATS_URL: privateNats.url, ADMIN_API_KEY: ADMIN_KEY, NATS_PUBLISH_TIMEOUT_MS: '1000' },
    });
    try {
      const api = request(isolated.app.getHttpServer());
      const source = await api.post('/v1/sources').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name: 'Outage' }).expect(201);
      const auth = basic(source.body.writeKey);
      await api.post('/v1/track').set('authorization', auth).send({ userId: 'u', event: 'Before' }).expect(200);
      await privateNats.stop();
      const response = await api.post('/v1/track').set('authorization', auth).send({ messageId: 'during-outage', userId: 'u', event: 'During' }).expect(503);
      expect(response.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/Retry the request with the same messageIds/) });
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      const ready = await api.get('/ready').set('authorization', `Bearer ${ADMIN_KEY}`).expect(503);
      expect(ready.body.details.nats.status).toBe('down');
      expect((await api.get('/ready').expect(503)).body).toEqual({ status: 'error' });
    } finally {
      await privateNats.stop();
      await isolated.close();
    }
  });
});
