import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import type { Envelope, TrackEventV1 } from '@segmenta/contracts';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { PrefixedNatsClient } from '@segmenta/messaging';
import { firstValueFrom, timeout } from 'rxjs';
import { startIngestion } from '../src/start';

const natsUrl = process.env.NATS_URL as string;
let service: ServiceUnderTest;
let nc: NatsConnection;
let http: ReturnType<typeof request>;

async function eventsOnStream(): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(`${service.prefix}_EVENTS`)).state.messages;
}

beforeAll(async () => {
  service = await startServiceUnderTest(startIngestion, { label: 'ing' });
  http = request(service.app.getHttpServer());
  nc = await connect({ servers: natsUrl });
});

afterAll(async () => {
  await nc?.close();
  await service?.close();
});

describe('POST /v1/track', () => {
  it('answers 200 once the event is stored on the EVENTS stream, in an envelope keyed by messageId', async () => {
    const response = await http
      .post('/v1/track')
      .send({ messageId: 'm-1', userId: 'u-1', event: 'Order Completed', properties: { revenue: 12.5 }, timestamp: '2026-11-20T10:00:00Z' })
      .expect(200);
    expect(response.body).toEqual({ success: true, messageId: 'm-1' });

    const jsm = await nc.jetstreamManager();
    const stored = await jsm.streams.getMessage(`${service.prefix}_EVENTS`, { last_by_subj: `${service.prefix}.events.track` });
    expect(stored.header.get('Nats-Msg-Id')).toBe('m-1');
    const envelope = JSONCodec<Envelope<TrackEventV1>>().decode(stored.data);
    expect(envelope).toMatchObject({ id: 'm-1', type: 'track', occurredAt: '2026-11-20T10:00:00.000Z' });
    expect(envelope.data).toMatchObject({ messageId: 'm-1', userId: 'u-1', event: 'Order Completed', properties: { revenue: 12.5 }, timestamp: '2026-11-20T10:00:00.000Z' });
    expect(Date.parse(envelope.data.receivedAt)).not.toBeNaN();
  });

  it('generates a messageId when the caller sends none', async () => {
    const response = await http.post('/v1/track').send({ anonymousId: 'a-1', event: 'Product Viewed' }).expect(200);
    expect(response.body.messageId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('stores a repeated messageId once', async () => {
    const before = await eventsOnStream();
    const body = { messageId: 'retry-1', userId: 'u-2', event: 'Product Added' };
    await http.post('/v1/track').send(body).expect(200);
    await http.post('/v1/track').send(body).expect(200);
    expect(await eventsOnStream()).toBe(before + 1);
  });

  it.each([
    [{ userId: 'u' }, 'event'],
    [{ event: 'Signed Up' }, 'userId'],
    [{ event: 'Signed Up', userId: '' }, 'userId'],
    [{ event: 'Signed Up', anonymousId: 'a', properties: 'cheap' }, 'properties'],
    [{ event: 'Signed Up', anonymousId: 'a', timestamp: 'yesterday' }, 'timestamp'],
  ])('rejects %j with a 400 naming %s and publishes nothing', async (body, field) => {
    const before = await eventsOnStream();
    const response = await http.post('/v1/track').send(body).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(response.body.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(response.body.message).toContain(field);
    expect(await eventsOnStream()).toBe(before);
  });

  it('answers malformed JSON with the API error shape', async () => {
    const response = await http.post('/v1/track').set('content-type', 'application/json').send('{"event":').expect(400);
    expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^Malformed JSON in request body/), details: [] });
  });

  it('documents the endpoint in the OpenAPI description at /docs', async () => {
    const response = await http.get('/docs/openapi.json').expect(200);
    expect(Object.keys(response.body.paths)).toEqual(expect.arrayContaining(['/v1/track', '/health', '/ready']));
    expect(response.body.components.schemas.TrackEventDto.required).toEqual(['event']);
  });
});

describe('request/reply over core NATS (@nestjs/microservices)', () => {
  it('answers ingestion.ping under its own prefix, and not under another', async () => {
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
