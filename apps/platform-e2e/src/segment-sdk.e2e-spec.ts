import { randomUUID } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import request from 'supertest';
import { waitFor } from '@segmenta/infra';
import { startPlatform, type Platform } from './platform-fixture';

/** Segment's own Node SDK, pointed at ingestion, works unchanged: its calls arrive in profiles. */
jest.setTimeout(120_000);

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform('sdk', ['ingestion', 'profiles']);
});

afterAll(async () => {
  await platform?.stop();
});

it('receives identify, track and page calls from @segment/analytics-node and stores them in profiles', async () => {
  const [ingestion] = platform.services;
  const source = await request(ingestion.url).post('/v1/sources').set(platform.admin).send({ name: 'Node backend' }).expect(201);
  const analytics = new Analytics({ writeKey: source.body.writeKey, host: ingestion.url, flushAt: 10, flushInterval: 50, maxRetries: 1 });
  const failures: unknown[] = [];
  analytics.on('error', (error) => failures.push(error));
  const userId = `sdk-user-${randomUUID().slice(0, 8)}`;

  analytics.identify({ userId, traits: { email: 'grace@example.com', plan: 'gold' } });
  analytics.track({ userId, event: 'Order Completed', properties: { revenue: 120, currency: 'EUR', products: [{ category: 'lenses', price: 120, quantity: 1 }] } });
  analytics.page({ userId, name: 'Lenses', category: 'Shop', properties: { path: '/lenses' } });
  await analytics.closeAndFlush({ timeout: 10000 });
  expect(failures).toEqual([]);

  const query = () => platform.db.query('select type, name, properties, traits, source_id from profiles.events where user_id = $1 order by type', [userId]);
  await waitFor(async () => (await query()).rowCount === 3, { timeoutMs: 15000, what: 'the three SDK calls in profiles' });
  expect((await query()).rows).toEqual([
    { type: 'identify', name: null, properties: {}, traits: { email: 'grace@example.com', plan: 'gold' }, source_id: source.body.id },
    { type: 'page', name: 'Lenses', properties: { path: '/lenses', category: 'Shop' }, traits: {}, source_id: source.body.id },
    { type: 'track', name: 'Order Completed', properties: { revenue: 120, currency: 'EUR', products: [{ category: 'lenses', price: 120, quantity: 1 }] }, traits: {}, source_id: source.body.id },
  ]);
});

it('receives the calls of RudderStack’s Node SDK (gzip-compressed JSON labelled x-www-form-urlencoded) and stores them in profiles', async () => {
  const [ingestion] = platform.services;
  const source = await request(ingestion.url).post('/v1/sources').set(platform.admin).send({ name: 'Rudder backend' }).expect(201);
  const failures: unknown[] = [];
  const rudder = new RudderAnalytics(source.body.writeKey, {
    dataPlaneUrl: ingestion.url,
    flushAt: 10,
    flushInterval: 50,
    retryCount: 0,
    logLevel: 'error',
    errorHandler: (error) => failures.push(error),
  });
  const userId = `rudder-user-${randomUUID().slice(0, 8)}`;
  rudder.identify({ userId, traits: { email: 'ada@example.com' } });
  rudder.track({ userId, event: 'Product Viewed', properties: { category: 'cameras' } });
  await rudder.flush();
  expect(failures).toEqual([]);

  const query = () => platform.db.query('select type, name, properties, traits, source_id from profiles.events where user_id = $1 order by type', [userId]);
  await waitFor(async () => (await query()).rowCount === 2, { timeoutMs: 15000, what: 'the two RudderStack calls in profiles' });
  expect((await query()).rows).toEqual([
    { type: 'identify', name: null, properties: {}, traits: { email: 'ada@example.com' }, source_id: source.body.id },
    { type: 'track', name: 'Product Viewed', properties: { category: 'cameras' }, traits: {}, source_id: source.body.id },
  ]);
});
