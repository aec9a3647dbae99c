import { JSONCodec, connect, headers, type NatsConnection } from 'nats';
import request from 'supertest';
import type { SegmentMessageV1 } from '@segmenta/contracts';
import { waitFor } from '@segmenta/infra';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { createEnvelope } from '@segmenta/messaging';
import { availableTestDrivers } from '@segmenta/persistence';
import { startProfiles } from '../src/start';

const natsUrl = process.env.NATS_URL as string;

function trackEvent(messageId: string, overrides: Partial<SegmentMessageV1> = {}): SegmentMessageV1 {
  return {
    messageId,
    type: 'track',
    sourceId: 'source-1',
    userId: 'u-1',
    event: 'Product Viewed',
    properties: { category: 'cameras' },
    traits: {},
    context: {},
    integrations: {},
    timestamp: '2026-11-21T08:00:00.000Z',
    receivedAt: '2026-11-21T08:00:01.000Z',
    ...overrides,
  };
}

const ADMIN = 'events-e2e-admin-key-0123456789';

describe.each(availableTestDrivers())('profiles consuming EVENTS (%s)', (driver) => {
  let service: ServiceUnderTest;
  let nc: NatsConnection;
  let http: ReturnType<typeof request>;

  /** Publishes like ingestion does, but with a chosen Nats-Msg-Id to get past JetStream's own dedupe. */
  async function publish(data: unknown, msgId: string): Promise<void> {
    const h = headers();
    await nc.jetstream().publish(`${service.prefix}.events.track`, JSONCodec().encode(createEnvelope('track', data, { id: (data as SegmentMessageV1).messageId ?? msgId })), {
      msgID: msgId,
      headers: h,
    });
  }

  const stored = async (id: string) => (await http.get(`/v1/events/${encodeURIComponent(id)}`)).status === 200;

  beforeAll(async () => {
    // Batches at most every 250 ms: messages published together land in one batch (see the duplicate test).
    service = await startServiceUnderTest(startProfiles, { label: 'prof', driver, env: { ADMIN_API_KEY: ADMIN, NATS_BATCH_INTERVAL_MS: '250' } });
    http = request.agent(service.app.getHttpServer()).set('authorization', `Bearer ${ADMIN}`) as unknown as ReturnType<typeof request>;
    nc = await connect({ servers: natsUrl });
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  it('stores a tracked event and serves it by messageId', async () => {
    await publish(trackEvent('ev-1'), 'ev-1');
    await waitFor(() => stored('ev-1'), { what: 'ev-1 stored' });
    const response = await http.get('/v1/events/ev-1').expect(200);
    expect(response.body).toMatchObject({
      id: 'ev-1',
      type: 'track',
      name: 'Product Viewed',
      userId: 'u-1',
      anonymousId: null,
      sourceId: 'source-1',
      properties: { category: 'cameras' },
      occurredAt: '2026-11-21T08:00:00.000Z',
      receivedAt: '2026-11-21T08:00:01.000Z',
    });
  });

  it('stores identify calls with their traits, and page calls by name', async () => {
    const publishAs = async (type: string, data: SegmentMessageV1) => {
      await nc.jetstream().publish(`${service.prefix}.events.${type}`, JSONCodec().encode(createEnvelope(type, data, { id: data.messageId })), { msgID: data.messageId });
    };
    await publishAs('identify', trackEvent('id-1', { type: 'identify', event: undefined, properties: {}, traits: { email: 'ada@example.com' } }));
    await publishAs('page', trackEvent('pg-1', { type: 'page', event: undefined, name: 'Cameras', properties: { path: '/cameras' } }));
    await waitFor(async () => (await stored('id-1')) && (await stored('pg-1')), { what: 'identify and page stored' });
    expect((await http.get('/v1/events/id-1')).body).toMatchObject({ type: 'identify', name: null, traits: { email: 'ada@example.com' } });
    expect((await http.get('/v1/events/pg-1')).body).toMatchObject({ type: 'page', name: 'Cameras', properties: { path: '/cameras' } });
  });

  it('stores an event delivered twice (past JetStream dedupe) once, keeping the first copy, also when both copies are in one batch', async () => {
    // The primer starts a batch; the copies arrive within the batch interval after it and are handed over together.
    await publish(trackEvent('ev-dup-primer'), 'ev-dup-primer');
    await publish(trackEvent('ev-dup', { properties: { copy: 1 } }), 'ev-dup-a');
    await publish(trackEvent('ev-dup', { properties: { copy: 2 } }), 'ev-dup-b');
    await publish(trackEvent('ev-after-dup'), 'ev-after-dup');
    // Per-subject order: once the later event is stored, both copies have been handled.
    await waitFor(() => stored('ev-after-dup'), { what: 'ev-after-dup stored' });
    const response = await http.get('/v1/events/ev-dup').expect(200);
    expect(response.body.properties).toEqual({ copy: 1 });
  });

  it('stores the same messageId from two sources as two events (de-duplication is per source, ADR 15)', async () => {
    await publish(trackEvent('ev-shared', { sourceId: 'source-a', properties: { from: 'a' } }), 'source-a:ev-shared');
    await publish(trackEvent('ev-shared', { sourceId: 'source-b', properties: { from: 'b' } }), 'source-b:ev-shared');
    // A redelivery of source a's copy past JetStream's dedupe is still dropped.
    await publish(trackEvent('ev-shared', { sourceId: 'source-a', properties: { from: 'a again' } }), 'source-a:ev-shared-again');
    await publish(trackEvent('ev-after-shared'), 'ev-after-shared');
    await waitFor(() => stored('ev-after-shared'), { what: 'ev-after-shared stored' });
    expect((await http.get('/v1/events/ev-shared?sourceId=source-a').expect(200)).body).toMatchObject({ sourceId: 'source-a', properties: { from: 'a' } });
    expect((await http.get('/v1/events/ev-shared?sourceId=source-b').expect(200)).body).toMatchObject({ sourceId: 'source-b', properties: { from: 'b' } });
    await http.get('/v1/events/ev-shared?sourceId=source-c').expect(404);
  });

  it('dead-letters an event whose data is invalid and keeps consuming', async () => {
    const jsm = await nc.jetstreamManager();
    const dlq = `${service.prefix}_DLQ`;
    const before = (await jsm.streams.info(dlq)).state.messages;
    await publish({ ...trackEvent('ev-bad'), timestamp: 'not a date' }, 'ev-bad');
    await publish(trackEvent('ev-good'), 'ev-good');
    await waitFor(() => stored('ev-good'), { what: 'ev-good stored' });
    await waitFor(async () => (await jsm.streams.info(dlq)).state.messages === before + 1, { what: 'ev-bad dead-lettered' });
    expect(await stored('ev-bad')).toBe(false);
  });

  it('lists the dead letter through the admin API and /metrics, replays it (failing again, it stays) and discards it', async () => {
    await waitFor(async () => (await http.get('/v1/admin/dead-letters')).body.items?.some((l: { envelopeId: string }) => l.envelopeId === 'ev-bad'), { what: 'ev-bad listed' });
    const page = (await http.get('/v1/admin/dead-letters').expect(200)).body;
    const letter = page.items.find((l: { envelopeId: string }) => l.envelopeId === 'ev-bad');
    expect(letter).toMatchObject({ stream: 'EVENTS', consumer: 'profiles-events', subject: `${service.prefix}.events.track`, deliveries: 1 });
    expect(letter.error).toMatch(/timestamp/);
    expect(page.counts).toContainEqual({ stream: 'EVENTS', consumer: 'profiles-events', count: page.items.length });
    const metrics = await request(service.app.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^segmenta_dead_letters_up 1$/m);
    expect(metrics.text).toContain(`segmenta_dead_letters{stream="EVENTS",consumer="profiles-events"} ${page.items.length}`);
    await request(service.app.getHttpServer()).get('/v1/admin/dead-letters').expect(401);
    const replay = await http.post(`/v1/admin/dead-letters/${letter.seq}/replay`).expect(200);
    expect(replay.body).toMatchObject({ seq: letter.seq, replayed: false });
    expect(replay.body.error).toMatch(/timestamp/);
    await http.delete(`/v1/admin/dead-letters/${letter.seq}`).expect(204);
    await http.delete(`/v1/admin/dead-letters/${letter.seq}`).expect(404);
    expect((await http.get('/v1/admin/dead-letters').expect(200)).body.items.some((l: { seq: number }) => l.seq === letter.seq)).toBe(false);
  });

  it('answers an unknown id with 404 in the API error shape', async () => {
    const response = await http.get('/v1/events/nope').expect(404);
    expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No event with id "nope"', details: [{ field: 'id', problem: 'not found' }] });
  });

  it('tells an anonymous caller (or a key that is not admin) of /ready only the status, and no response names the framework', async () => {
    const anonymous = request(service.app.getHttpServer());
    for (const response of [await anonymous.get('/ready').expect(200), await anonymous.get('/ready').set('authorization', 'Bearer not-a-key').expect(200)]) {
      expect(response.body).toEqual({ status: 'ok' });
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
    expect((await anonymous.get('/health').expect(200)).headers['x-powered-by']).toBeUndefined();
    expect((await http.get('/v1/events/nope').expect(404)).headers['x-powered-by']).toBeUndefined();
  });

  it('reports database and NATS in /ready to an admin', async () => {
    const response = await http.get('/ready').expect(200);
    expect(response.body.details).toEqual({
      database: { status: 'up', driver },
      nats: { status: 'up', rttMs: expect.any(Number) },
    });
  });
});
