import { randomUUID } from 'node:crypto';
import { GrowthBook } from '@growthbook/growthbook';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type ProfileActivityV1 } from '@segmenta/contracts';
import { seededRandom } from '@segmenta/analytics';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { startPlatform, type Platform } from './platform-fixture';

/**
 * The programme holdout (issue 22), across offers and experiments as their own processes: a share of
 * customers, hashed as GrowthBook hashes (seed programme-holdout), gets no personalized offers, base
 * earning only and no journeys, each checked in offers; the planted effects on revenue come back in
 * the programme's lift and in its incremental revenue net of reward cost, with intervals that cover them.
 */
jest.setTimeout(180_000);

const codec = JSONCodec();
const CUSTOMERS = 400;
const SHARE = 0.2;

let platform: Platform;
let offers: ServiceProcess;
let experiments: ServiceProcess;
let nc: NatsConnection;

/** GrowthBook's own SDK: is the customer held out? */
function heldOutBySdk(id: string): boolean {
  const gb = new GrowthBook({ attributes: { id } });
  const result = gb.run({ key: 'programme-holdout', seed: 'programme-holdout', variations: ['holdout', 'treated'], weights: [SHARE, 1 - SHARE], coverage: 1, hashVersion: 2 });
  gb.destroy();
  return result.value === 'holdout';
}

beforeAll(async () => {
  platform = await startPlatform('holdout', ['offers', 'experiments']);
  [offers, experiments] = platform.services;
  nc = await connect({ servers: process.env.NATS_URL });
});

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

it('holds a hashed share out of offers, bonus earning and journeys, and measures the programme’s lift and its revenue net of reward cost', async () => {
  // The programme: an offer for everyone, a point per euro and a bonus per review, a journey after a started checkout.
  await request(offers.url)
    .post('/v1/offers')
    .set(platform.admin)
    .send({
      key: 'welcome-10',
      name: '10 % off',
      description: '10 % off',
      reward: { type: 'percent_off', percent: 10 },
      placements: ['home_banner'],
      startsAt: '2020-01-01T00:00',
      endsAt: null,
      timeZone: 'Europe/Berlin',
      coupons: { type: 'none' },
    })
    .expect(201);
  await request(offers.url).post('/v1/offers/welcome-10/status').set(platform.admin).send({ status: 'active' }).expect(200);
  await request(offers.url)
    .post('/v1/earn-rules')
    .set(platform.admin)
    .send({ key: 'euro-base', name: 'A point per euro', rule: { type: 'base', currency: 'EUR', pointsPerUnit: 1 } })
    .expect(201);
  await request(offers.url)
    .post('/v1/earn-rules')
    .set(platform.admin)
    .send({ key: 'review-bonus', name: 'A review earns 50', rule: { type: 'event_bonus', event: 'Product Reviewed', points: 50 } })
    .expect(201);
  await request(offers.url).put('/v1/channels/push').set(platform.admin).send({ type: 'nats', subject: 'journeys.sends.push' }).expect(200);
  await request(offers.url)
    .post('/v1/journeys')
    .set(platform.admin)
    .send({
      key: 'checkout-nudge',
      name: 'Checkout nudge',
      definition: { trigger: { type: 'event', event: 'Checkout Started', where: [] }, steps: [{ id: 'nudge', type: 'send', channel: 'push', message: { template: 'nudge' }, next: null }] },
    })
    .expect(201);
  await request(offers.url).post('/v1/journeys/checkout-nudge/status').set(platform.admin).send({ status: 'active' }).expect(200);

  // Before it starts there is no lift to read and nothing to stop.
  for (const [method, path] of [
    ['get', '/v1/programme/lift'],
    ['delete', '/v1/programme/holdout'],
  ] as const)
    expect((await request(experiments.url)[method](path).set(platform.admin).expect(404)).body.details).toEqual([{ field: 'holdout', problem: 'not started' }]);
  // The holdout: started once; the same again changes nothing; another share would move customers.
  expect((await request(experiments.url).put('/v1/programme/holdout').set(platform.admin).send({ share: SHARE }).expect(201)).body).toMatchObject({
    share: SHARE,
    status: 'running',
    seed: 'programme-holdout',
  });
  await request(experiments.url).put('/v1/programme/holdout').set(platform.admin).send({ share: SHARE }).expect(200);
  expect((await request(experiments.url).put('/v1/programme/holdout').set(platform.admin).send({ share: 0.1 }).expect(409)).body.details).toEqual([
    { field: 'share', problem: 'cannot change while the holdout runs' },
  ]);
  await request(experiments.url).post('/v1/experiments/programme-holdout/status').set(platform.admin).send({ status: 'stopped' }).expect(409);
  await waitFor(async () => (await platform.count(`select count(*) as n from offers.experiment_rules where status = 'running' and rules->>'kind' = 'holdout'`)) === 1, {
    timeoutMs: 30_000,
    what: 'the holdout in offers',
  });

  // Fixed ids and seeded draws: who is held out and who orders is the same on every run.
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => `22222222-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const heldOut = new Set(customers.filter(heldOutBySdk));
  expect(heldOut.size).toBeGreaterThan(40);
  expect(heldOut.size).toBeLessThan(120);

  // 1. Offers: held-out customers get none (and are told so); the others get the programme's offer.
  for (let i = 0; i < customers.length; i += 40)
    await Promise.all(
      customers.slice(i, i + 40).map(async (profileId) => {
        const body = (await request(offers.url).get(`/v1/customers/${profileId}/offers`).query({ placement: 'home_banner' }).set(platform.admin).expect(200)).body;
        if (heldOut.has(profileId)) expect(body).toMatchObject({ offers: [], heldOut: true });
        else {
          expect(body.offers.map((o: { key: string }) => o.key)).toEqual(['welcome-10']);
          expect(body.heldOut).toBeUndefined();
        }
      }),
    );

  // Planted: half of the treated customers order (100 EUR, redeeming 10 % off: 10 EUR of reward), 30 % of the held out (no offer).
  const random = seededRandom(22);
  const js = nc.jetstream();
  const ordered = new Set<string>();
  const activity: ProfileActivityV1[] = [];
  const at = new Date(Date.now() + 1000).toISOString();
  const track = (profileId: string, name: string, properties: Record<string, unknown>): ProfileActivityV1 => ({
    profileId,
    eventId: randomUUID(),
    type: 'track',
    name,
    properties,
    traits: {},
    occurredAt: at,
  });
  for (const profileId of customers) {
    activity.push(track(profileId, 'Checkout Started', {}), track(profileId, 'Product Reviewed', {}));
    if (random() < (heldOut.has(profileId) ? 0.3 : 0.5)) {
      ordered.add(profileId);
      activity.push(track(profileId, 'Order Completed', { order_id: `o-${profileId}`, revenue: 100, currency: 'EUR' }));
    }
  }
  for (let i = 0; i < activity.length; i += 200)
    await Promise.all(activity.slice(i, i + 200).map((data) => js.publish(`${platform.prefix}.${SUBJECTS.profilesActivity}`, codec.encode(createEnvelope(SUBJECTS.profilesActivity, data)))));
  const treatedBuyers = customers.filter((p) => ordered.has(p) && !heldOut.has(p));
  for (let i = 0; i < treatedBuyers.length; i += 20)
    await Promise.all(
      treatedBuyers.slice(i, i + 20).map(async (profileId) =>
        request(offers.url)
          .post('/v1/redemptions')
          .set(platform.admin)
          .set('idempotency-key', randomUUID())
          .send({ offerKey: 'welcome-10', profileId, orderId: `o-${profileId}`, orderAmount: { amount: 10_000, currency: 'EUR' } })
          .expect(201),
      ),
    );

  // 2. Loyalty: the held out earn the base rate only (100 for an order, nothing for a review); the others their review bonus too.
  const expectedPoints = (p: string) => (ordered.has(p) ? 100 : 0) + (heldOut.has(p) ? 0 : 50);
  const earned = async () =>
    new Map(
      (
        await platform.db.query<{ profile_id: string; points: string }>(
          `select profile_id, sum(available_delta + pending_delta) as points from offers.points_ledger where kind = 'earn' group by profile_id`,
        )
      ).rows.map((r) => [r.profile_id, Number(r.points)]),
    );
  // Waits for the points, then names any customer whose points differ.
  await waitFor(
    async () => {
      const m = await earned();
      return customers.every((p) => (m.get(p) ?? 0) === expectedPoints(p));
    },
    { timeoutMs: 60_000, what: 'every customer’s points' },
  ).catch(() => undefined);
  const points = await earned();
  for (const profileId of customers) expect([profileId, points.get(profileId) ?? 0]).toEqual([profileId, expectedPoints(profileId)]);

  // 3. Journeys: only treated customers entered the checkout nudge.
  await waitFor(async () => (await platform.count(`select count(*) as n from offers.journey_enrollments where journey_key = 'checkout-nudge'`)) === CUSTOMERS - heldOut.size, {
    timeoutMs: 60_000,
    what: 'the treated customers’ enrollments',
  });
  expect(await platform.count(`select count(*) as n from offers.journey_enrollments where profile_id = any($1::uuid[])`, [[...heldOut]])).toBe(0);

  // 4. The programme's lift, from the aggregates: the test's own means, the planted revenue lift (+20 per customer) inside its
  //    interval, and revenue net of the rewards' cost (+15: the treated paid 10 of every 100) inside its own.
  const mean = (group: string[], value: (p: string) => number) => group.reduce((s, p) => s + value(p), 0) / group.length;
  const held = customers.filter((p) => heldOut.has(p));
  const treated = customers.filter((p) => !heldOut.has(p));
  const revenueOf = (p: string) => (ordered.has(p) ? 100 : 0);
  const netOf = (p: string) => (ordered.has(p) ? (heldOut.has(p) ? 100 : 90) : 0);
  const lift = async () => (await request(experiments.url).get('/v1/programme/lift').query({ by: 'segment' }).set(platform.admin).expect(200)).body;
  const metricMeans = (body: { metrics: Array<{ key: string; segments: Array<{ segment: string | null; variants: Array<{ key: string; mean: number | null }> }> }> }, key: string) =>
    (body.metrics.find((m) => m.key === key)?.segments[0].variants ?? []).map((v) => v.mean);
  await waitFor(
    async () => {
      const body = await lift();
      const [h, t] = metricMeans(body, 'net-revenue');
      return h !== null && t !== null && Math.abs(h - mean(held, netOf)) < 1e-9 && Math.abs(t - mean(treated, netOf)) < 1e-9;
    },
    { timeoutMs: 60_000, what: 'every order and reward in the programme’s aggregates' },
  );
  const body = await lift();
  expect(body.srm.users).toEqual({ holdout: held.length, treated: treated.length });
  expect(body.srm.flagged).toBe(false);
  expect(metricMeans(body, 'revenue')).toEqual([mean(held, revenueOf), mean(treated, revenueOf)]);
  expect(metricMeans(body, 'orders')).toEqual([held.filter((p) => ordered.has(p)).length / held.length, treated.filter((p) => ordered.has(p)).length / treated.length]);
  const revenueLift = body.metrics.find((m: { key: string }) => m.key === 'revenue').segments[0].comparisons[0].frequentist.absolute;
  expect(revenueLift.ci[0]).toBeLessThan(20);
  expect(revenueLift.ci[1]).toBeGreaterThan(20);
  const [incremental] = body.incremental.filter((x: { segment: string | null }) => x.segment === null);
  expect(incremental.variant).toBe('treated');
  expect(incremental.netLift.estimate).toBeCloseTo(mean(treated, netOf) - mean(held, netOf), 9);
  expect(incremental.netLift.ci[0]).toBeLessThan(15);
  expect(incremental.netLift.ci[1]).toBeGreaterThan(15);
  // The reward cost per treated customer: 10 for each who ordered; the held out redeemed nothing.
  expect(incremental.rewardCostPerCustomer.variant).toBeCloseTo((10 * treatedBuyers.length) / treated.length, 9);
  expect(incremental.rewardCostPerCustomer.control).toBeCloseTo(0, 9);
  expect(incremental.netTotal.estimate).toBeCloseTo(incremental.netLift.estimate * treated.length, 6);
});
