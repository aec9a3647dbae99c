import { randomUUID } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import { Client } from 'pg';
import request from 'supertest';
import { startServiceProcess, waitFor, type ServiceProcess } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';

/** Segment's own Node SDK, pointed at ingestion, works unchanged: its calls arrive in profiles. */
jest.setTimeout(120_000);

const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'sdk');
const ADMIN_API_KEY = `admin-${randomUUID()}`;
let database: TestDatabase;
let db: Client;
const services: ServiceProcess[] = [];

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error('the e2e tests need a PostgreSQL server (DATABASE_URL)');
  database = await createTestDatabase();
  db = new Client({ connectionString: database.url });
  await db.connect();
  const env = { NATS_URL: natsUrl, NATS_PREFIX: namespace.prefix, DATABASE_URL: database.url, LOG_LEVEL: 'warn', ADMIN_API_KEY };
  services.push(...(await Promise.all([startServiceProcess({ app: 'ingestion', env }), startServiceProcess({ app: 'profiles', env })])));
});

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop()));
  await db?.end();
  await database?.drop();
  await namespace.cleanup();
});

it('receives identify, track and page calls from @segment/analytics-node and stores them in profiles', async () => {
  const [ingestion] = services;
  const source = await request(ingestion.url).post('/v1/sources').set('authorization', `Bearer ${ADMIN_API_KEY}`).send({ name: 'Node backend' }).expect(201);
  const analytics = new Analytics({ writeKey: source.body.writeKey, host: ingestion.url, flushAt: 10, flushInterval: 50, maxRetries: 1 });
  const failures: unknown[] = [];
  analytics.on('error', (error) => failures.push(error));
  const userId = `sdk-user-${randomUUID().slice(0, 8)}`;

  analytics.identify({ userId, traits: { email: 'grace@example.com', plan: 'gold' } });
  analytics.track({ userId, event: 'Order Completed', properties: { revenue: 120, currency: 'EUR', products: [{ category: 'lenses', price: 120, quantity: 1 }] } });
  analytics.page({ userId, name: 'Lenses', category: 'Shop', properties: { path: '/lenses' } });
  await analytics.closeAndFlush({ timeout: 10000 });
  expect(failures).toEqual([]);

  const query = () => db.query('select type, name, properties, traits, source_id from profiles.events where user_id = $1 order by type', [userId]);
  await waitFor(async () => (await query()).rowCount === 3, { timeoutMs: 15000, what: 'the three SDK calls in profiles' });
  expect((await query()).rows).toEqual([
    { type: 'identify', name: null, properties: {}, traits: { email: 'grace@example.com', plan: 'gold' }, source_id: source.body.id },
    { type: 'page', name: 'Lenses', properties: { path: '/lenses', category: 'Shop' }, traits: {}, source_id: source.body.id },
    { type: 'track', name: 'Order Completed', properties: { revenue: 120, currency: 'EUR', products: [{ category: 'lenses', price: 120, quantity: 1 }] }, traits: {}, source_id: source.body.id },
  ]);
});
