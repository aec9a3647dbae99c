import { randomUUID } from 'node:crypto';
import { GrowthBook } from '@growthbook/growthbook';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { startPlatform, type Platform } from './platform-fixture';

/**
 * An experiment on the checkout placement (issue 21), across offers and experiments as their own
 * processes: experiments announces it (experiments.changed), offers assigns in process with no call
 * per request and serves each targeted customer their variant's offer (the variant GrowthBook's SDK
 * gives them), customers outside it the control's; experiments records each exposure once from
 * offers.served, with the variant served.
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

const count = async (query: string) => Number((await platform.db.query<{ n: string }>(query)).rows[0].n);

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
      (await count(`select count(*) as n from offers.membership_view where segment_key = 'camera-intent' and member`)) === CUSTOMERS &&
      (await count(`select count(*) as n from experiments.memberships where segment_key = 'camera-intent' and member`)) === CUSTOMERS &&
      (await count(`select count(*) as n from offers.experiment_rules where status = 'running'`)) === 1,
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
  await waitFor(async () => (await count(`select count(*) as n from experiments.exposures`)) === inIt.length, { timeoutMs: 30_000, what: 'one exposure per customer in the experiment' });
  const rows = (await platform.db.query<{ profile_id: string; variant: string; source: string }>(`select profile_id, variant, source from experiments.exposures`)).rows;
  for (const row of rows) {
    expect(row.source).toBe('offers');
    expect(row.variant).toBe(sdkVariant(row.profile_id));
  }
  expect(rows.some((r) => r.profile_id === outsider)).toBe(false);
});
