import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startServiceProcess, waitFor, type ServiceProcess } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';

/**
 * API keys across services: ingestion (which serves the key admin API) and profiles run as their
 * own processes on one NATS_PREFIX, each checking keys against its own watched copy of the bucket.
 */
jest.setTimeout(120_000);

const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'keyrev');
const ADMIN_API_KEY = `admin-${randomUUID()}`;
let database: TestDatabase;
let ingestion: ServiceProcess;
let profiles: ServiceProcess;

/** A GET route of each service that a read key may call. */
const probes = () => [
  { service: ingestion, path: '/v1/sources' },
  { service: profiles, path: '/v1/identity/blocklist' },
];
const statusOf = async (probe: { service: ServiceProcess; path: string }, key: string) => (await request(probe.service.url).get(probe.path).set('authorization', `Bearer ${key}`)).status;

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error('the e2e tests need a PostgreSQL server (DATABASE_URL)');
  database = await createTestDatabase();
  const env = { NATS_URL: natsUrl, NATS_PREFIX: namespace.prefix, DATABASE_URL: database.url, LOG_LEVEL: 'warn', ADMIN_API_KEY };
  [ingestion, profiles] = await Promise.all([startServiceProcess({ app: 'ingestion', env }), startServiceProcess({ app: 'profiles', env })]);
});

afterAll(async () => {
  await Promise.all([ingestion?.stop(), profiles?.stop()]);
  await database?.drop();
  await namespace.cleanup();
});

it('makes a key created on ingestion work on ingestion and profiles, and a revocation answer 401 on both within 2 s', async () => {
  const created = await request(ingestion.url)
    .post('/v1/api-keys')
    .set('authorization', `Bearer ${ADMIN_API_KEY}`)
    .send({ name: 'console', scopes: ['read'] })
    .expect(201);
  const secret: string = created.body.secret;
  await waitFor(async () => (await Promise.all(probes().map((probe) => statusOf(probe, secret)))).every((status) => status === 200), {
    timeoutMs: 5000,
    intervalMs: 20,
    what: 'the new key to work on both services',
  });

  const revokedAt = Date.now();
  await request(ingestion.url).post(`/v1/api-keys/${created.body.id}/revoke`).set('authorization', `Bearer ${ADMIN_API_KEY}`).expect(200);
  const elapsed = await Promise.all(
    probes().map(async (probe) => {
      await waitFor(async () => (await statusOf(probe, secret)) === 401, { timeoutMs: 5000, intervalMs: 20, what: `401 from ${probe.service.name}` });
      return Date.now() - revokedAt;
    }),
  );
  expect(Math.max(...elapsed)).toBeLessThan(2000);

  // The bootstrap key is untouched by the registry.
  for (const probe of probes()) expect(await statusOf(probe, ADMIN_API_KEY)).toBe(200);
});
