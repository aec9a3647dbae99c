import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { freePort, startPrivateNats } from '@segmenta/infra';
import { startIngestion } from '../src/start';

/**
 * Abuse (issue 15): per-key and per-address rate limits, the unknown-write-key cache, the lockout
 * after repeated failed authentications and load shedding, against real NATS and PostgreSQL. Each
 * part starts its own ingestion with small limits; addresses are told apart through
 * X-Forwarded-For (TRUST_PROXY=loopback), so one part's lockout does not leak into another's.
 */
const ADMIN_KEY = 'test-admin-key-0123456789';
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const track = (i: number) => ({ userId: `u-${i}`, event: 'Opened' });

async function start(label: string, env: Record<string, string>): Promise<{ service: ServiceUnderTest; http: ReturnType<typeof request> }> {
  const service = await startServiceUnderTest(startIngestion, { label, env: { ADMIN_API_KEY: ADMIN_KEY, TRUST_PROXY: 'loopback', ...env } });
  return { service, http: request(service.app.getHttpServer()) };
}

/** A counter on /metrics (0 when it has not been counted yet). */
async function metric(http: ReturnType<typeof request>, name: string): Promise<number> {
  const text = (await http.get('/metrics').expect(200)).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

function expectRateLimitHeaders(headers: Record<string, string>, limit: number, windowSeconds: number): void {
  expect(headers['ratelimit-limit']).toBe(String(limit));
  expect(Number(headers['ratelimit-remaining'])).toBeGreaterThanOrEqual(0);
  expect(Number(headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);
  expect(Number(headers['ratelimit-reset'])).toBeLessThanOrEqual(windowSeconds);
  expect(headers['ratelimit-policy']).toBe(`${limit};w=${windowSeconds}`);
}

describe('rate limits per key', () => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  beforeAll(async () => ({ service, http } = await start('rlkey', { RATE_LIMIT_PER_KEY: '5', RATE_LIMIT_PER_ADDRESS: '1000', RATE_LIMIT_WINDOW_SECONDS: '60' })));
  afterAll(() => service?.close());

  it('answers 429 with Retry-After and the RateLimit headers once a write key used its limit, and other keys go on', async () => {
    const first = (await http.post('/v1/sources').set(admin).send({ name: 'Busy' }).expect(201)).body.writeKey as string;
    const second = (await http.post('/v1/sources').set(admin).send({ name: 'Quiet' }).expect(201)).body.writeKey as string;
    const remaining: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const ok = await http.post('/v1/track').set('authorization', basic(first)).send(track(i)).expect(200);
      expectRateLimitHeaders(ok.headers, 5, 60);
      remaining.push(Number(ok.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await http.post('/v1/track').set('authorization', basic(first)).send(track(6)).expect(429);
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expectRateLimitHeaders(refused.headers, 5, 60);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    await http.post('/v1/track').set('authorization', basic(second)).send(track(7)).expect(200);
    expect(await metric(http, 'segmenta_http_rate_limited_total{limit="key"}')).toBeGreaterThanOrEqual(1);
  });

  it('limits each API key the same way', async () => {
    const key = (
      await http
        .post('/v1/api-keys')
        .set(admin)
        .send({ name: 'dashboard', scopes: ['read'] })
        .expect(201)
    ).body.secret as string;
    for (let i = 0; i < 5; i += 1) await http.get('/v1/sources').set('authorization', `Bearer ${key}`).expect(200);
    const refused = await http.get('/v1/sources').set('authorization', `Bearer ${key}`).expect(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.headers['ratelimit-limit']).toBe('5');
  });
});

describe('rate limits per address', () => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  beforeAll(async () => ({ service, http } = await start('rladdr', { RATE_LIMIT_PER_ADDRESS: '6', RATE_LIMIT_WINDOW_SECONDS: '60' })));
  afterAll(() => service?.close());

  it('answers 429 to an address over its limit whatever the key, while another address and the probes go on', async () => {
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const writeKey = (await http.post('/v1/sources').set(admin).set(from('198.51.100.9')).send({ name: 'Shop' }).expect(201)).body.writeKey as string;
    for (let i = 0; i < 6; i += 1) {
      const ok = await http.post('/v1/track').set(from('198.51.100.1')).set('authorization', basic(writeKey)).send(track(i)).expect(200);
      expect(ok.headers['ratelimit-limit']).toBe('6');
    }
    const refused = await http.post('/v1/track').set(from('198.51.100.1')).set('authorization', basic(writeKey)).send(track(7)).expect(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    // Refused before anything else: no key needed to be refused.
    await http.get('/v1/sources').set(from('198.51.100.1')).expect(429);
    await http.post('/v1/track').set(from('198.51.100.2')).set('authorization', basic(writeKey)).send(track(8)).expect(200);
    await http.get('/health').set(from('198.51.100.1')).expect(200);
    expect(await metric(http, 'segmenta_http_rate_limited_total{limit="address"}')).toBe(2);
  });
});

describe('unknown write keys', () => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  // No lockout here: this part is about what each refusal costs.
  beforeAll(async () => ({ service, http } = await start('unknown', { AUTH_FAILURE_LIMIT: '0' })));
  afterAll(() => service?.close());

  it('asks the database once for a flood of one unknown key', async () => {
    const before = await metric(http, 'segmenta_write_key_lookups_total');
    for (let i = 0; i < 40; i += 1) {
      const refused = await http.post('/v1/track').set('authorization', basic('not-a-key-of-anyone-000000000000')).send(track(i)).expect(401);
      expect(refused.body.details).toEqual([{ field: 'writeKey', problem: 'unknown' }]);
    }
    expect((await metric(http, 'segmenta_write_key_lookups_total')) - before).toBe(1);
    expect(await metric(http, 'segmenta_write_key_unknown_cached_total')).toBe(39);
  });

  it('accepts a source created a moment ago, and its rotated key at once', async () => {
    const created = await http.post('/v1/sources').set(admin).send({ name: 'New' }).expect(201);
    await http.post('/v1/track').set('authorization', basic(created.body.writeKey)).send(track(1)).expect(200);
    const rotated = await http.post(`/v1/sources/${created.body.id}/rotate-key`).set(admin).expect(200);
    await http.post('/v1/track').set('authorization', basic(rotated.body.writeKey)).send(track(2)).expect(200);
    await http.post('/v1/track').set('authorization', basic(created.body.writeKey)).send(track(3)).expect(401);
  });
});

describe('failed authentications', () => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let writeKey: string;
  beforeAll(async () => {
    ({ service, http } = await start('lockout', { AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW_SECONDS: '60', AUTH_LOCKOUT_SECONDS: '30' }));
    writeKey = (await http.post('/v1/sources').set(admin).set('x-forwarded-for', '192.0.2.99').send({ name: 'Shop' }).expect(201)).body.writeKey as string;
  });
  afterAll(() => service?.close());

  it('locks an address out after repeated unknown write keys, without asking the database, while a known key from it goes on', async () => {
    const from = { 'x-forwarded-for': '192.0.2.1' };
    await http.post('/v1/track').set(from).set('authorization', basic(writeKey)).send(track(0)).expect(200);
    for (let i = 0; i < 5; i += 1)
      await http
        .post('/v1/track')
        .set(from)
        .set('authorization', basic(`guess-${i}-0000000000000000000000`))
        .send(track(i))
        .expect(401);
    const lookups = await metric(http, 'segmenta_write_key_lookups_total');
    for (let i = 5; i < 25; i += 1) {
      const refused = await http
        .post('/v1/track')
        .set(from)
        .set('authorization', basic(`guess-${i}-0000000000000000000000`))
        .send(track(i))
        .expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(30);
    }
    expect(await metric(http, 'segmenta_write_key_lookups_total')).toBe(lookups);
    // A write key this process knows to be valid is no guess: traffic of a shared egress address goes on.
    await http.post('/v1/track').set(from).set('authorization', basic(writeKey)).send(track(99)).expect(200);
    // Another address is not affected.
    await http.post('/v1/track').set('x-forwarded-for', '192.0.2.2').set('authorization', basic('guess-x-0000000000000000000000')).send(track(1)).expect(401);
  });

  it('locks an address out after repeated wrong API keys: then even the admin key gets 429', async () => {
    const from = { 'x-forwarded-for': '192.0.2.3' };
    for (let i = 0; i < 5; i += 1) await http.get('/v1/sources').set(from).set('authorization', `Bearer wrong-admin-key-guess-${i}`).expect(401);
    const refused = await http.get('/v1/sources').set(from).set(admin).expect(429);
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await metric(http, 'segmenta_http_rate_limited_total{limit="auth_lockout"}')).toBeGreaterThanOrEqual(21);
    await http.get('/v1/sources').set('x-forwarded-for', '192.0.2.4').set(admin).expect(200);
  });
});

describe('overload', () => {
  it('sheds tracking calls over the in-flight limit with 503 and Retry-After, while /health answers within a second', async () => {
    const nats = await startPrivateNats();
    const healthPort = await freePort();
    const { service, http } = await start('shed', { NATS_URL: nats.url, SHED_MAX_IN_FLIGHT: '4', NATS_PUBLISH_TIMEOUT_MS: '20000', HEALTH_PORT: String(healthPort) });
    let calls: Array<Promise<request.Response>> = [];
    try {
      const writeKey = (await http.post('/v1/sources').set(admin).send({ name: 'Flood' }).expect(201)).body.writeKey as string;
      // A stopped nats-server holds every publish: the first four calls stay in flight, the rest
      // find the limit reached whatever order they arrive in.
      process.kill(nats.pid as number, 'SIGSTOP');
      const answered: request.Response[] = [];
      calls = Array.from({ length: 12 }, (_, i) =>
        http
          .post('/v1/track')
          .set('authorization', basic(writeKey))
          .send(track(i))
          .then((response) => (answered.push(response), response)),
      );
      const deadline = Date.now() + 10_000;
      while (answered.length < 8 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answered.map((r) => r.status)).toEqual(Array(8).fill(503));
      expect(answered[0].body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(answered[0].headers['retry-after']).toBe('1');
      // A client that retries at once has to reconnect first.
      expect(answered[0].headers.connection).toBe('close');
      for (const health of [http.get('/health'), request(`http://127.0.0.1:${healthPort}`).get('/health')]) {
        const started = performance.now();
        expect((await health.expect(200)).body).toMatchObject({ status: 'ok', service: 'ingestion' });
        expect(performance.now() - started).toBeLessThan(1000);
      }
      await request(`http://127.0.0.1:${healthPort}`).get('/v1/track').expect(404);
      process.kill(nats.pid as number, 'SIGCONT');
      // (/metrics reads the dead-letter counts from JetStream: asked once NATS answers again.)
      expect(await metric(http, 'segmenta_http_shed_total{reason="in_flight"}')).toBe(8);
      // Nothing admitted is lost: the held calls are stored once NATS answers.
      expect((await Promise.all(calls)).map((r) => r.status).sort()).toEqual([...Array(4).fill(200), ...Array(8).fill(503)]);
      await http.post('/v1/track').set('authorization', basic(writeKey)).send(track(999)).expect(200);
    } finally {
      if (nats.pid) process.kill(nats.pid, 'SIGCONT');
      await Promise.allSettled(calls);
      await service.close();
      await nats.stop();
    }
  }, 60_000);
});
