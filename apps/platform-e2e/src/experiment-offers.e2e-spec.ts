import { randomUUID } from 'node:crypto';
import { GrowthBook } from '@growthbook/growthbook';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type ProfileActivityV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { seededRandom } from '@segmenta/analytics';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { startPlatform, type Platform } from './platform-fixture';

/**
 * An experiment on the checkout placement (issue 21), across offers and experiments as their own
 * processes: experiments announces it (experiments.changed), offers assigns in process with no call
 * per request and serves each targeted customer their variant's offer (the variant GrowthBook's SDK
 * gives them), customers outside it the control's; experiments records each exposure once from
 * offers.served, with the variant served. Conversions arriving as `Order Completed` bring the
 * planted lift back inside its interval; a split skewed by lost exposures is flagged (SRM).
 */
jest.setTimeout(120_000);

const codec = JSONCodec();
const CUSTOMERS = 40;

let platform: Platform;
let offers: ServiceProcess;
let experiments: ServiceProcess;
let nc: NatsConnection;

function sdkVariant(id: string): string | null {
  const gb = new GrowthBook({ attributes: { id } });
  const result = gb.run({ key: 'checkout-camera-offer', seed: 'checkout-camera-offer', variations: ['control', 'ten-off'], weights: [0.5, 0.5], coverage: 0.8, hashVersion: 2 });
  gb.destroy();
  return result.inExperiment ? result.value : null;
}

beforeAll(async () => {
  platform = await startPlatform('expoff', ['offers', 'experiments']);
  [offers, experiments] = platform.services;
  nc = await connect({ servers: process.env.NATS_URL });
});

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

it('serves each customer the offer of the variant GrowthBook gives them, and records each exposure once', async () => {
  for (const [key, reward] of [
    ['free-shipping', { type: 'free_shipping' }],
    ['cameras-10', { type: 'percent_off', percent: 10 }],
  ] as const) {
    await request(offers.url)
      .post('/v1/offers')
      .set(platform.admin)
      .send({ key, name: key, description: key, reward, placements: ['checkout'], startsAt: '2020-01-01T00:00', endsAt: null, timeZone: 'Europe/Berlin', coupons: { type: 'none' } })
      .expect(201);
    await request(offers.url).post(`/v1/offers/${key}/status`).set(platform.admin).send({ status: 'active' }).expect(200);
  }
  await request(experiments.url)
    .post('/v1/experiments')
    .set(platform.admin)
    .send({
      key: 'checkout-camera-offer',
      name: 'Checkout: 10 % off vs free shipping',
      definition: {
        targeting: { segments: ['camera-intent'], trafficShare: 0.8, placement: 'checkout' },
        variants: [
          { key: 'control', weight: 0.5, offers: ['free-shipping'] },
          { key: 'ten-off', weight: 0.5, offers: ['cameras-10'] },
        ],
        metrics: [{ key: 'orders', type: 'conversion', event: 'Order Completed' }],
      },
    })
    .expect(201);
  await request(experiments.url).post('/v1/experiments/checkout-camera-offer/status').set(platform.admin).send({ status: 'running' }).expect(200);

  const customers = Array.from({ length: CUSTOMERS }, () => randomUUID());
  const outsider = randomUUID();
  const js = nc.jetstream();
  let seq = 0;
  const segmentId = randomUUID();
  for (const profileId of customers) {
    const data: SegmentMembershipChangedV1 = { seq: ++seq, segmentId, segmentKey: 'camera-intent', segmentVersion: 1, profileId, change: 'entered', at: new Date().toISOString() };
    await js.publish(`${platform.prefix}.${SUBJECTS.segmentsEntered}`, codec.encode(createEnvelope(SUBJECTS.segmentsEntered, data)));
  }
  await waitFor(
    async () =>
      (await platform.count(`select count(*) as n from offers.membership_view where segment_key = 'camera-intent' and member`)) === CUSTOMERS &&
      (await platform.count(`select count(*) as n from experiments.memberships where segment_key = 'camera-intent' and member`)) === CUSTOMERS &&
      (await platform.count(`select count(*) as n from offers.experiment_rules where status = 'running'`)) === 1,
    { timeoutMs: 30_000, what: 'the memberships and the running experiment in both services' },
  );

  const served = async (profileId: string) =>
    ((await request(offers.url).get(`/v1/customers/${profileId}/offers`).query({ placement: 'checkout' }).set(platform.admin).expect(200)).body as { offers: Array<{ key: string }> }).offers.map(
      (o) => o.key,
    );
  for (const profileId of customers) {
    const variant = sdkVariant(profileId);
    expect(await served(profileId)).toEqual([variant === 'ten-off' ? 'cameras-10' : 'free-shipping']);
  }
  // Not targeted (no segment): the control's offer, and no exposure.
  expect(await served(outsider)).toEqual(['free-shipping']);

  const inIt = customers.filter((p) => sdkVariant(p) !== null);
  expect(inIt.length).toBeGreaterThan(0);
  expect(inIt.length).toBeLessThan(CUSTOMERS);
  // Served twice: still one exposure each.
  for (const profileId of inIt.slice(0, 5)) await served(profileId);
  await waitFor(async () => (await platform.count(`select count(*) as n from experiments.exposures`)) === inIt.length, {
    timeoutMs: 30_000,
    what: 'one exposure per customer in the experiment',
  });
  const rows = (await platform.db.query<{ profile_id: string; variant: string; source: string }>(`select profile_id, variant, source from experiments.exposures`)).rows;
  for (const row of rows) {
    expect(row.source).toBe('offers');
    expect(row.variant).toBe(sdkVariant(row.profile_id));
  }
  expect(rows.some((r) => r.profile_id === outsider)).toBe(false);
});

it('brings the planted lift back from Order Completed events inside its interval, and flags a skewed split', async () => {
  for (const [key, placement] of [
    ['banner-a', 'home_banner'],
    ['banner-b', 'home_banner'],
    ['cart-a', 'product_page'],
    ['cart-b', 'product_page'],
  ]) {
    await request(offers.url)
      .post('/v1/offers')
      .set(platform.admin)
      .send({
        key,
        name: key,
        description: key,
        reward: { type: 'free_shipping' },
        placements: [placement],
        startsAt: '2020-01-01T00:00',
        endsAt: null,
        timeZone: 'Europe/Berlin',
        coupons: { type: 'none' },
      })
      .expect(201);
    await request(offers.url).post(`/v1/offers/${key}/status`).set(platform.admin).send({ status: 'active' }).expect(200);
  }
  const experiment = (key: string, placement: string, offersOf: [string, string]) => ({
    key,
    name: key,
    definition: {
      targeting: { segments: ['shoppers'], placement },
      variants: [
        { key: 'control', weight: 0.5, offers: [offersOf[0]] },
        { key: 'treatment', weight: 0.5, offers: [offersOf[1]] },
      ],
      metrics: [{ key: 'orders', type: 'conversion', event: 'Order Completed', days: 7 }],
    },
  });
  for (const body of [experiment('banner-lift', 'home_banner', ['banner-a', 'banner-b']), experiment('cart-skew', 'product_page', ['cart-a', 'cart-b'])]) {
    await request(experiments.url).post('/v1/experiments').set(platform.admin).send(body).expect(201);
    await request(experiments.url).post(`/v1/experiments/${body.key}/status`).set(platform.admin).send({ status: 'running' }).expect(200);
  }
  // Fixed ids and seeded draws: the split and the orders are the same on every run.
  const shoppers = Array.from({ length: 800 }, (_, i) => `21212121-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const js = nc.jetstream();
  const segmentId = randomUUID();
  for (let i = 0; i < shoppers.length; i += 100)
    await Promise.all(
      shoppers.slice(i, i + 100).map((profileId, j) => {
        const data: SegmentMembershipChangedV1 = { seq: 10_000 + i + j, segmentId, segmentKey: 'shoppers', segmentVersion: 1, profileId, change: 'entered', at: new Date().toISOString() };
        return js.publish(`${platform.prefix}.${SUBJECTS.segmentsEntered}`, codec.encode(createEnvelope(SUBJECTS.segmentsEntered, data)));
      }),
    );
  await waitFor(
    async () =>
      (await platform.count(`select count(*) as n from offers.membership_view where segment_key = 'shoppers' and member`)) === shoppers.length &&
      (await platform.count(`select count(*) as n from experiments.memberships where segment_key = 'shoppers' and member`)) === shoppers.length &&
      (await platform.count(`select count(*) as n from offers.experiment_rules where status = 'running'`)) === 3,
    { timeoutMs: 60_000, what: 'the shoppers and the running experiments in both services' },
  );

  const serve = async (profileId: string, placement: string) =>
    ((await request(offers.url).get(`/v1/customers/${profileId}/offers`).query({ placement }).set(platform.admin).expect(200)).body as { offers: Array<{ key: string }> }).offers.map((o) => o.key);
  // home_banner: everyone is served. product_page: a third of the treatment's pages never ask (lost exposures, a broken split).
  const variantAt = new Map<string, string>();
  let lost = 0;
  for (let i = 0; i < shoppers.length; i += 40)
    await Promise.all(
      shoppers.slice(i, i + 40).map(async (profileId, j) => {
        variantAt.set(profileId, (await serve(profileId, 'home_banner')).includes('banner-b') ? 'treatment' : 'control');
        const cartVariant = sdkVariantOf('cart-skew', profileId);
        if (cartVariant === 'treatment' && (i + j) % 3 === 0) lost += 1;
        else await serve(profileId, 'product_page');
      }),
    );
  for (const profileId of shoppers) expect(variantAt.get(profileId)).toBe(sdkVariantOf('banner-lift', profileId));

  // Planted: 10 % of the control's shoppers order, 25 % of the treatment's.
  const random = seededRandom(2026);
  const truth = { control: { n: 0, orders: 0 }, treatment: { n: 0, orders: 0 } };
  const orders: ProfileActivityV1[] = [];
  for (const profileId of shoppers) {
    const variant = variantAt.get(profileId) as 'control' | 'treatment';
    const orders_ = random() < (variant === 'treatment' ? 0.25 : 0.1);
    truth[variant].n += 1;
    if (!orders_) continue;
    truth[variant].orders += 1;
    orders.push({ profileId, eventId: `order-${profileId}`, type: 'track', name: 'Order Completed', properties: { revenue: 80 }, traits: {}, occurredAt: new Date(Date.now() + 60_000).toISOString() });
  }
  await waitFor(
    async () => (await platform.count(`select count(*) as n from experiments.exposures x join experiments.experiments e on e.id = x.experiment_id and e.key = 'banner-lift'`)) === shoppers.length,
    {
      timeoutMs: 60_000,
      what: 'every banner exposure',
    },
  );
  for (let i = 0; i < orders.length; i += 100)
    await Promise.all(orders.slice(i, i + 100).map((data) => js.publish(`${platform.prefix}.${SUBJECTS.profilesActivity}`, codec.encode(createEnvelope(SUBJECTS.profilesActivity, data)))));
  const results = async (key: string) => (await request(experiments.url).get(`/v1/experiments/${key}/results`).set(platform.admin).expect(200)).body;
  await waitFor(async () => (await results('banner-lift')).metrics[0].segments[0].variants.reduce((s: number, v: { n: number; mean: number }) => s + Math.round(v.n * v.mean), 0) === orders.length, {
    timeoutMs: 60_000,
    what: 'every order counted',
  });

  const lift = await results('banner-lift');
  expect(lift.srm.users).toEqual({ control: truth.control.n, treatment: truth.treatment.n });
  expect(lift.srm.flagged).toBe(false);
  const overall = lift.metrics[0].segments[0];
  expect(overall.variants.map((v: { mean: number }) => v.mean)).toEqual([truth.control.orders / truth.control.n, truth.treatment.orders / truth.treatment.n]);
  const comparison = overall.comparisons[0].frequentist.absolute;
  // The planted lift of 0.15 lies inside the interval, which excludes 0.
  expect(comparison.ci[0]).toBeLessThan(0.15);
  expect(comparison.ci[1]).toBeGreaterThan(0.15);
  expect(comparison.ci[0]).toBeGreaterThan(0);

  await waitFor(async () => (await results('cart-skew')).srm.users.control + (await results('cart-skew')).srm.users.treatment === shoppers.length - lost, {
    timeoutMs: 60_000,
    what: 'the cart exposures',
  });
  const skewed = await results('cart-skew');
  expect(skewed.srm.flagged).toBe(true);
  expect(skewed.srm.pValue).toBeLessThan(0.001);
  expect(skewed.warnings[0]).toMatch(/^sample-ratio mismatch/);
});

function sdkVariantOf(key: string, id: string): string {
  const gb = new GrowthBook({ attributes: { id } });
  const result = gb.run({ key, seed: key, variations: ['control', 'treatment'], weights: [0.5, 0.5], coverage: 1, hashVersion: 2 });
  gb.destroy();
  return result.value;
}
