import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import type { ApiErrorBody } from '@segmenta/contracts';
import { connect, type NatsConnection } from 'nats';
import { startIngestion } from '../src/start';

/**
 * Input PostgreSQL cannot store (NUL, lone surrogates), bodies nested deeper than the parser's
 * limit, invalid compressed bodies, nulls for required columns and empty updates (issue 15): each
 * is a 4xx naming the problem, and nothing is published or changed.
 */
const ADMIN_KEY = 'bad-input-e2e-admin-key-0123456789';
const natsUrl = process.env.NATS_URL as string;
let service: ServiceUnderTest;
let nc: NatsConnection;
let http: ReturnType<typeof request>;
let writeKey: string;
let sourceId: string;

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const NUL = '\u0000';
const LONE = '\ud800';

async function streamCount(): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(`${service.prefix}_EVENTS`)).state.messages;
}

/** `{"a":{"a":…{"a":1}}}` with `levels` objects, as JSON text (superagent gives up serializing a few thousand levels). */
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

function expectDetail(body: ApiErrorBody, field: string, problem: RegExp): void {
  expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  expect(body.details).toContainEqual({ field, problem: expect.stringMatching(problem) });
  expect(body.message).toContain(field);
}

beforeAll(async () => {
  service = await startServiceUnderTest(startIngestion, { label: 'ingbad', env: { ADMIN_API_KEY: ADMIN_KEY } });
  http = request(service.app.getHttpServer());
  nc = await connect({ servers: natsUrl });
  const created = (await http.post('/v1/sources').set(admin).send({ name: 'Bad input' }).expect(201)).body as { id: string; writeKey: string };
  writeKey = created.writeKey;
  sourceId = created.id;
});

afterAll(async () => {
  await nc?.close();
  await service?.close();
});

describe('text PostgreSQL cannot store', () => {
  const cases: Array<[string, string, Record<string, unknown>, string, RegExp]> = [
    ['track', 'NUL in userId', { userId: `u${NUL}1`, event: 'E' }, 'userId', /NUL/],
    ['track', 'lone surrogate in the event name', { userId: 'u-1', event: `E${LONE}` }, 'event', /surrogate/],
    ['track', 'NUL in messageId', { messageId: `m${NUL}`, userId: 'u-1', event: 'E' }, 'messageId', /NUL/],
    ['track', 'NUL in a property value', { userId: 'u-1', event: 'E', properties: { plan: `gold${NUL}` } }, 'properties.plan', /NUL/],
    ['track', 'lone surrogate in a nested property key', { userId: 'u-1', event: 'E', properties: { items: [{ [`k${LONE}`]: 1 }] } }, 'properties.items[0]', /surrogate/],
    ['identify', 'NUL in a trait key', { userId: 'u-1', traits: { [`e${NUL}mail`]: 'a@b.c' } }, 'traits', /NUL/],
    ['page', 'lone low surrogate in the context', { anonymousId: 'a-1', context: { page: { title: '\udc00' } } }, 'context.page.title', /surrogate/],
    ['alias', 'NUL in previousId', { userId: 'u-1', previousId: NUL }, 'previousId', /NUL/],
  ];

  it.each(cases)('%s with %s: 400 naming the field, nothing published', async (call, _what, body, field, problem) => {
    const before = await streamCount();
    const response = await http.post(`/v1/${call}`).set('authorization', basic(writeKey)).send(body).expect(400);
    expectDetail(response.body as ApiErrorBody, field, problem);
    expect(await streamCount()).toBe(before);
  });

  it.each(cases)('a batch member of %s with %s is rejected by itself; the valid member is stored', async (call, _what, body, field, problem) => {
    const before = await streamCount();
    const response = await http
      .post('/v1/batch')
      .set('authorization', basic(writeKey))
      .send({
        batch: [
          { type: call, ...body },
          { type: 'track', userId: 'u-ok', event: 'Fine' },
        ],
      })
      .expect(200);
    expect(response.body).toMatchObject({ success: true, accepted: 1, rejected: [{ index: 0, details: [{ field: `batch[0].${field}`, problem: expect.stringMatching(problem) }] }] });
    expect(await streamCount()).toBe(before + 1);
  });

  it('rejects a batch whose shared context cannot be stored (it would go into every member)', async () => {
    const response = await http
      .post('/v1/batch')
      .set('authorization', basic(writeKey))
      .send({ context: { ip: `1.2.3.4${NUL}` }, batch: [{ type: 'track', userId: 'u-1', event: 'E' }] })
      .expect(400);
    expectDetail(response.body as ApiErrorBody, 'context.ip', /NUL/);
  });

  it('accepts text PostgreSQL can store: emoji (surrogate pairs), accents, other control characters', async () => {
    await http
      .post('/v1/track')
      .set('authorization', basic(writeKey))
      .send({ userId: 'zoë-😀', event: 'Ordered ☕', properties: { note: 'tab\there\u0001', '😀': '\ud83d\ude00' } })
      .expect(200);
  });

  it('names a NUL in a source name', async () => {
    const before = (await http.get('/v1/sources').set(admin).expect(200)).body.length as number;
    const response = await http
      .post('/v1/sources')
      .set(admin)
      .send({ name: `Shop${NUL}` })
      .expect(400);
    expectDetail(response.body as ApiErrorBody, 'name', /NUL/);
    const patched = await http
      .patch(`/v1/sources/${sourceId}`)
      .set(admin)
      .send({ name: `x${LONE}` })
      .expect(400);
    expectDetail(patched.body as ApiErrorBody, 'name', /surrogate/);
    expect((await http.get('/v1/sources').set(admin).expect(200)).body).toHaveLength(before);
  });

  it('names a NUL in a path parameter', async () => {
    const response = await http.patch('/v1/sources/a%00b').set(admin).send({ name: 'x' }).expect(400);
    expectDetail(response.body as ApiErrorBody, 'id', /NUL/);
  });
});

describe('nesting deeper than the body parser allows', () => {
  const json = { 'content-type': 'application/json' };
  const routes: Array<[string, (body: string) => request.Test]> = [
    ['POST /v1/track', (body) => http.post('/v1/track').set(json).set('authorization', basic(writeKey)).send(body)],
    ['POST /v1/batch', (body) => http.post('/v1/batch').set(json).set('authorization', basic(writeKey)).send(body)],
    ['POST /v1/sources', (body) => http.post('/v1/sources').set(json).set(admin).send(body)],
    ['PATCH /v1/sources/:id', (body) => http.patch(`/v1/sources/${sourceId}`).set(json).set(admin).send(body)],
    ['POST /v1/api-keys', (body) => http.post('/v1/api-keys').set(json).set(admin).send(body)],
  ];

  it.each(routes)('%s: a 5,000-level body is a 400 naming the limit', async (_route, send) => {
    const before = await streamCount();
    const response = await send(nested(5000)).expect(400);
    expect(response.body).toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/nested deeper than 64 levels/),
      details: [{ field: expect.any(String), problem: expect.stringMatching(/64/) }],
    });
    expect(await streamCount()).toBe(before);
  });

  it('a 3,000-level context on /v1/track and in a batch member is a 400', async () => {
    const before = await streamCount();
    const track = await http
      .post('/v1/track')
      .set(json)
      .set('authorization', basic(writeKey))
      .send(`{"userId":"u-1","event":"E","context":${nested(3000)}}`)
      .expect(400);
    expect((track.body as ApiErrorBody).details).toEqual([{ field: `context${'.a'.repeat(63)}`, problem: 'is nested deeper than 64 levels' }]);
    await http
      .post('/v1/batch')
      .set(json)
      .set('authorization', basic(writeKey))
      .send(`{"batch":[{"type":"track","userId":"u-1","event":"E","context":${nested(3000)}}]}`)
      .expect(400);
    expect(await streamCount()).toBe(before);
  });

  it('takes 64 levels', async () => {
    // The body itself is level 1, properties level 2.
    await http
      .post('/v1/track')
      .set(json)
      .set('authorization', basic(writeKey))
      .send(`{"userId":"u-1","event":"E","properties":${nested(63)}}`)
      .expect(200);
    await http
      .post('/v1/track')
      .set(json)
      .set('authorization', basic(writeKey))
      .send(`{"userId":"u-1","event":"E","properties":${nested(64)}}`)
      .expect(400);
  });
});

describe('compressed bodies', () => {
  /** Sends bytes as they are (supertest re-encodes Buffers it is given with a Content-Encoding). */
  async function post(path: string, authorization: string, encoding: string, bytes: Buffer): Promise<{ status: number; body: ApiErrorBody }> {
    const response = await fetch(`${await service.app.getUrl()}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', 'content-encoding': encoding },
      body: bytes,
    });
    return { status: response.status, body: (await response.json()) as ApiErrorBody };
  }

  it.each([
    ['gzip', Buffer.from('not gzip at all')],
    ['gzip', gzipSync(Buffer.from('{"userId":"u-1","event":"E"}')).subarray(0, 20)],
    ['deflate', Buffer.from('nope')],
    ['br', Buffer.from('nope')],
  ])('Content-Encoding %s with an invalid body: 400 naming the encoding', async (encoding, bytes) => {
    const before = await streamCount();
    for (const path of ['/v1/track', '/v1/batch']) {
      const response = await post(path, basic(writeKey), encoding, bytes);
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(new RegExp(encoding));
    }
    const adminResponse = await post('/v1/sources', admin.authorization, encoding, bytes);
    expect(adminResponse.status).toBe(400);
    expect(adminResponse.body.details).toEqual([{ field: 'body', problem: expect.stringMatching(new RegExp(encoding)) }]);
    expect(await streamCount()).toBe(before);
  });

  it('an unknown Content-Encoding is a 415', async () => {
    const response = await post('/v1/track', basic(writeKey), 'snappy', Buffer.from('{}'));
    expect(response.status).toBe(415);
    expect(response.body.message).toMatch(/snappy/);
  });

  it('a valid gzip body is accepted', async () => {
    const before = await streamCount();
    const response = await fetch(`${await service.app.getUrl()}/v1/track`, {
      method: 'POST',
      headers: { authorization: basic(writeKey), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(Buffer.from('{"userId":"u-1","event":"Zipped"}')),
    });
    expect(response.status).toBe(200);
    expect(await streamCount()).toBe(before + 1);
  });
});

describe('PATCH /v1/sources/:id', () => {
  it.each([
    ['name', /name must not be null/],
    ['enabled', /enabled must not be null/],
  ])('%s: null is a 400 naming the field, the source unchanged', async (field, problem) => {
    const before = (await http.get('/v1/sources').set(admin).expect(200)).body as unknown[];
    const response = await http
      .patch(`/v1/sources/${sourceId}`)
      .set(admin)
      .send({ [field]: null })
      .expect(400);
    expectDetail(response.body as ApiErrorBody, field, problem);
    expect((await http.get('/v1/sources').set(admin).expect(200)).body).toEqual(before);
  });

  it.each([
    ['an empty object', {}],
    ['only unknown fields', { colour: 'blue' }],
  ])('%s changes nothing and answers the source as it is', async (_what, body) => {
    const response = await http.patch(`/v1/sources/${sourceId}`).set(admin).send(body).expect(200);
    expect(response.body).toMatchObject({ id: sourceId, name: 'Bad input', enabled: true });
  });

  it('no body at all changes nothing either', async () => {
    const response = await http.patch(`/v1/sources/${sourceId}`).set(admin).expect(200);
    expect(response.body).toMatchObject({ id: sourceId, name: 'Bad input', enabled: true });
  });
});

// Found by the fuzz test (fuzz.e2e-spec.ts): every service has these routes.
describe('dead letters: cursors and sequence numbers no page handed out', () => {
  it.each(['-2064911080', '1.5', 'abc', '1e3', '9007199254740993'])('GET /v1/admin/dead-letters?cursor=%s: 400 naming cursor', async (cursor) => {
    const response = await http.get(`/v1/admin/dead-letters?cursor=${cursor}`).set(admin).expect(400);
    expect((response.body as ApiErrorBody).details).toEqual([{ field: 'cursor', problem: expect.stringMatching(/cursor/) }]);
  });

  it.each([
    ['POST', '/v1/admin/dead-letters/-1/replay'],
    ['DELETE', '/v1/admin/dead-letters/-1'],
    ['DELETE', '/v1/admin/dead-letters/0'],
    ['POST', '/v1/admin/dead-letters/99999999999999999999/replay'],
  ])('%s %s: a 4xx, not a 500', async (method, path) => {
    const response = await http[method.toLowerCase() as 'post' | 'delete'](path).set(admin);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});
