import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { startIngestion } from '../src/start';

// The service's log, captured through the logger's sink while it serves real requests (NATS + PostgreSQL).
const ADMIN_KEY = 'test-admin-key-logging-0123456789';
const EMAIL = 'ann.logging@example.com';
const PHONE = '+49 170 5550123';
const lines: string[] = [];
const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown> & { req?: { method: string; url: string }; res?: { statusCode: number } });
const requestLines = () => entries().filter((e) => e.req && e.res);
let service: ServiceUnderTest;
let http: ReturnType<typeof request>;
let writeKey: string;

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  service = await startServiceUnderTest(startIngestion, { label: 'inglog', env: { ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'verbose' }, logSink: (line) => lines.push(line) });
  http = request(service.app.getHttpServer());
  writeKey = (await http.post('/v1/sources').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name: 'Logging' }).expect(201)).body.writeKey;
});

afterAll(async () => {
  await service?.close();
});

it('logs each configuration request (not the Segment calls) and the service, never the email, phone, write key, a cookie or a body', async () => {
  await http
    .post('/v1/identify')
    .set('authorization', basic(writeKey))
    .send({ userId: 'u-log-1', traits: { email: EMAIL, phone: PHONE } })
    .expect(200);
  await http
    .post('/v1/track')
    .set('authorization', basic(writeKey))
    .set('cookie', 'session=cookie-secret-42')
    .send({ userId: 'u-log-1', event: 'Order Completed', properties: { email: EMAIL } })
    .expect(200);
  // Fails validation (no event name); the error path logs too.
  await http
    .post('/v1/track')
    .set('authorization', basic(writeKey))
    .send({ userId: 'u-log-1', properties: { email: EMAIL } })
    .expect(400);
  // Segment's batch form carries the write key in the body as well.
  await http
    .post('/v1/batch')
    .send({ writeKey, batch: [{ type: 'identify', userId: 'u-log-2', traits: { email: EMAIL } }] })
    .expect(200);

  // Configuration calls are logged, one line each, with query values and credentials redacted.
  await http
    .get(`/v1/sources?email=${encodeURIComponent(EMAIL)}`)
    .set('authorization', `Bearer ${ADMIN_KEY}`)
    .set('cookie', 'session=cookie-secret-42')
    .expect(200);
  await http.get('/v1/sources/00000000-0000-0000-0000-000000000000').set('authorization', `Bearer ${ADMIN_KEY}`).expect(404);

  await waitFor(() => requestLines().length >= 3, 'the request lines');
  expect(requestLines().map((e) => [e.req?.method, e.req?.url, e.res?.statusCode])).toEqual([
    ['POST', '/v1/sources', 201],
    ['GET', '/v1/sources?email=[redacted]', 200],
    ['GET', '/v1/sources/00000000-0000-0000-0000-000000000000', 404],
  ]);
  // The Segment calls (thousands a second) have no request line: it cost a tenth of ingestion's throughput.
  expect(requestLines().some((e) => /^\/v1\/(identify|track|batch)/.test(e.req?.url ?? ''))).toBe(false);
  expect(requestLines().every((e) => e.service === 'ingestion')).toBe(true);
  expect(requestLines().find((e) => e.res?.statusCode === 404)?.level).toBe('warn');

  const log = lines.join('\n');
  for (const secret of [EMAIL, PHONE, writeKey, basic(writeKey).slice('Basic '.length), 'cookie-secret-42', ADMIN_KEY]) expect(log).not.toContain(secret);
});

it("writes Nest's and the NATS transport's own logs through the same logger", () => {
  const contexts = new Set(entries().map((e) => e.context));
  expect(contexts).toContain('NestMicroservice');
  expect(contexts).toContain('Bootstrap');
  expect(entries().every((e) => e.service === 'ingestion' && typeof e.time === 'string')).toBe(true);
});
