import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type ProfileActivityV1, type ProfileUpdatedV1 } from '@segmenta/contracts';
import { seededRandom } from '@segmenta/analytics';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { startPlatform, type Platform } from './platform-fixture';

/**
 * Experiment results back in segment KPIs (issue 22), across segmentation and experiments as their
 * own processes: segmentation places customers in a segment, experiments breaks an experiment's
 * results down by it and publishes them (experiments.results), and the segment's KPI route shows
 * the same lift; stopping the experiment takes it out.
 */
jest.setTimeout(180_000);

const codec = JSONCodec();
const CUSTOMERS = 200;

let platform: Platform;
let segmentation: ServiceProcess;
let experiments: ServiceProcess;
let nc: NatsConnection;

beforeAll(async () => {
  platform = await startPlatform('xlift', ['segmentation', 'experiments']);
  [segmentation, experiments] = platform.services;
  nc = await connect({ servers: process.env.NATS_URL });
});

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

const publish = async (subject: string, items: unknown[]) => {
  const js = nc.jetstream();
  await Promise.all(items.map((data) => js.publish(`${platform.prefix}.${subject}`, codec.encode(createEnvelope(subject, data)))));
};

it('shows a segment’s lift in a running experiment on its KPI route, equal to the experiment’s results by segment, until the experiment stops', async () => {
  await request(segmentation.url)
    .post('/v1/segments')
    .set(platform.admin)
    .send({ key: 'xlift-vip', name: 'VIP', definition: { trait: 'tier', op: 'eq', value: 'vip' } })
    .expect(201);
  const customers = Array.from({ length: CUSTOMERS }, () => randomUUID());
  await publish(
    SUBJECTS.profilesUpdated,
    customers.map((profileId, i): ProfileUpdatedV1 => ({ profileId, traits: { tier: i % 2 === 0 ? 'vip' : 'regular' }, features: {}, full: true, updatedAt: new Date().toISOString() })),
  );
  // segmentation places them and experiments learns it from segments.entered.
  await waitFor(async () => (await platform.count(`select count(*) as n from experiments.memberships where segment_key = 'xlift-vip' and member`)) === CUSTOMERS / 2, {
    timeoutMs: 60_000,
    what: 'the VIPs in experiments',
  });

  await request(experiments.url)
    .post('/v1/experiments')
    .set(platform.admin)
    .send({
      key: 'xlift-checkout',
      name: 'Checkout',
      definition: {
        variants: [
          { key: 'control', weight: 0.5 },
          { key: 'treatment', weight: 0.5 },
        ],
        metrics: [{ key: 'orders', type: 'conversion', event: 'Order Completed', days: 14 }],
      },
    })
    .expect(201);
  await request(experiments.url).post('/v1/experiments/xlift-checkout/status').set(platform.admin).send({ status: 'running' }).expect(200);
  const variantOf = new Map<string, string>();
  for (const profileId of customers)
    variantOf.set(profileId, (await request(experiments.url).post('/v1/experiments/xlift-checkout/assignments').set(platform.admin).send({ profileId }).expect(200)).body.variant.key);
  const random = seededRandom(5);
  const orders = customers.flatMap((profileId, i): ProfileActivityV1[] =>
    random() < (variantOf.get(profileId) === 'treatment' ? 0.4 : 0.1)
      ? [{ profileId, eventId: `xlift-order-${i}`, type: 'track', name: 'Order Completed', properties: { revenue: 20 }, traits: {}, occurredAt: new Date().toISOString() }]
      : [],
  );
  await publish(SUBJECTS.profilesActivity, orders);
  await waitFor(async () => (await platform.count(`select count(*) as n from experiments.metric_values where metric_key = 'orders' and value = 1`)) === orders.length, {
    timeoutMs: 60_000,
    what: 'every conversion',
  });

  const published = (await request(experiments.url).post('/v1/experiments/xlift-checkout/results/publish').set(platform.admin).expect(200)).body;
  const kpis = async () => (await request(segmentation.url).get('/v1/segments/xlift-vip/kpis').set(platform.admin).expect(200)).body;
  await waitFor(async () => (await kpis()).experiments.some((e: { at: string }) => e.at === published.at), { timeoutMs: 30_000, what: 'the lift in segmentation' });
  const [lift] = (await kpis()).experiments;
  expect(lift).toMatchObject({ key: 'xlift-checkout', kind: 'experiment', at: published.at });

  // The same numbers as the experiment's results for the segment.
  const results = (await request(experiments.url).get('/v1/experiments/xlift-checkout/results').query({ by: 'segment' }).set(platform.admin).expect(200)).body;
  const vip = results.metrics[0].segments.find((s: { segment: string | null }) => s.segment === 'xlift-vip');
  const [orderLift] = lift.metrics;
  expect(orderLift.control).toEqual({ variant: 'control', n: vip.variants[0].n, mean: vip.variants[0].mean });
  expect(orderLift.variants[0]).toMatchObject({
    variant: 'treatment',
    n: vip.variants[1].n,
    mean: vip.variants[1].mean,
    lift: { estimate: vip.comparisons[0].frequentist.absolute.estimate, ci: vip.comparisons[0].frequentist.absolute.ci, pValue: vip.comparisons[0].frequentist.absolute.pValue },
    pValueAdjusted: vip.comparisons[0].pValueAdjusted,
  });
  expect(orderLift.control.n + orderLift.variants[0].n).toBe(CUSTOMERS / 2);

  // Stopped: experiments.changed takes it out of the KPI view.
  await request(experiments.url).post('/v1/experiments/xlift-checkout/status').set(platform.admin).send({ status: 'stopped' }).expect(200);
  await waitFor(async () => (await kpis()).experiments.length === 0, { timeoutMs: 30_000, what: 'the stopped experiment gone' });
});
