import { randomUUID } from 'node:crypto';
import { GrowthBook } from '@growthbook/growthbook';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type ExperimentChangedV1, type ExperimentExposedV1, type SegmentMembershipChangedV1, type SegmentReferencesV1 } from '@segmenta/contracts';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { availableTestDrivers } from '@segmenta/persistence';
import { startExperiments } from '../src/start';

/**
 * Experiments (issue 21) against real NATS and PostgreSQL (and PGlite): definitions checked and
 * moved through their statuses, experiments.changed announced, assignment identical to the
 * GrowthBook SDK's for targeted customers, over HTTP and NATS request/reply, exposures once.
 */
jest.setTimeout(120_000);

const ADMIN = 'experiments-e2e-admin-key-0123456789';
const codec = JSONCodec();

const definition = {
  hypothesis: 'Camera fans buy more often with 10 % off than with free shipping',
  targeting: { segments: ['camera-intent'], trafficShare: 0.8, placement: 'checkout' },
  variants: [
    { key: 'control', name: 'Free shipping', weight: 0.5, offers: ['free-shipping'] },
    { key: 'ten-off', name: '10 % off cameras', weight: 0.5, offers: ['cameras-10'], payload: { banner: 'ten' } },
  ],
  metrics: [{ key: 'orders', type: 'conversion', event: 'Order Completed', days: 14 }],
};

/** GrowthBook's own SDK: the variant key it gives this customer, or null when it leaves them out. */
function growthbookVariant(id: string, seed: string, trafficShare: number): string | null {
  const gb = new GrowthBook({ attributes: { id } });
  const result = gb.run({ key: 'checkout-camera-offer', seed, variations: ['control', 'ten-off'], weights: [0.5, 0.5], coverage: trafficShare, hashVersion: 2 });
  gb.destroy();
  return result.inExperiment ? result.value : null;
}

describe.each(availableTestDrivers())('experiments (%s)', (driver) => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  let keys: { personalize: string; read: string };
  const admin = { Authorization: `Bearer ${ADMIN}` };
  const changed: ExperimentChangedV1[] = [];
  const exposed: ExperimentExposedV1[] = [];
  const references: SegmentReferencesV1[] = [];
  let seq = 0;

  beforeAll(async () => {
    service = await startServiceUnderTest(startExperiments, { label: 'exp', driver, env: { ADMIN_API_KEY: ADMIN, SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' } });
    http = request(service.app.getHttpServer());
    keys = await issueTestApiKeys(service.app);
    nc = await connect({ servers: service.natsUrl });
    const collect = <T>(subject: string, into: T[]) => {
      const sub = nc.subscribe(`${service.prefix}.${subject}`);
      void (async () => {
        for await (const msg of sub) into.push((codec.decode(msg.data) as { data: T }).data);
      })();
    };
    collect(SUBJECTS.experimentsChanged, changed);
    collect(SUBJECTS.experimentsExposed, exposed);
    collect(SUBJECTS.experimentsSegmentReferences, references);
    await nc.flush();
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  const assign = (key: string, profileId: string, expose?: boolean) =>
    http
      .post(`/v1/experiments/${key}/assignments`)
      .set({ Authorization: `Bearer ${keys.personalize}` })
      .send({ profileId, ...(expose === undefined ? {} : { expose }) });

  async function enter(profileIds: string[], segmentKey: string): Promise<void> {
    const js = nc.jetstream();
    for (const profileId of profileIds) {
      const data: SegmentMembershipChangedV1 = { seq: ++seq, segmentId: randomUUID(), segmentKey, segmentVersion: 1, profileId, change: 'entered', at: new Date().toISOString() };
      await js.publish(`${service.prefix}.${SUBJECTS.segmentsEntered}`, codec.encode(createEnvelope(SUBJECTS.segmentsEntered, data)));
    }
  }

  it('creates a draft, refuses a bad definition field by field and a taken key, and announces the experiment', async () => {
    const created = (await http.post('/v1/experiments').set(admin).send({ key: 'checkout-camera-offer', name: 'Checkout camera offer', definition }).expect(201)).body;
    expect(created).toMatchObject({ key: 'checkout-camera-offer', status: 'draft', revision: 1, seed: 'checkout-camera-offer', definition: { targeting: { trafficShare: 0.8 } } });
    const bad = await http
      .post('/v1/experiments')
      .set(admin)
      .send({
        key: 'broken',
        name: 'Broken',
        definition: { ...definition, variants: [{ ...definition.variants[0], weight: 0.7 }, definition.variants[1]], metrics: [{ key: 'x', type: 'conversion' }] },
      })
      .expect(400);
    expect(bad.body.details).toEqual([
      { field: 'definition.variants', problem: 'the weights add up to 1.2; they must add up to 1' },
      { field: 'definition.metrics[0].event', problem: 'a conversion metric needs the name of its track event' },
    ]);
    expect((await http.post('/v1/experiments').set(admin).send({ key: 'checkout-camera-offer', name: 'Again', definition }).expect(409)).body.details).toEqual([{ field: 'key', problem: 'is taken' }]);
    await http
      .post('/v1/experiments')
      .set({ Authorization: `Bearer ${keys.read}` })
      .send({ key: 'by-reader', name: 'x', definition })
      .expect(403);
    await waitFor(async () => changed.some((c) => c.key === 'checkout-camera-offer'), { timeoutMs: 15_000, what: 'experiments.changed' });
    expect(changed.find((c) => c.key === 'checkout-camera-offer')).toMatchObject({ status: 'draft', revision: 1, segments: ['camera-intent'], trafficShare: 0.8, placement: 'checkout' });
    await waitFor(async () => references.some((r) => r.ownerKind === 'experiment'), { timeoutMs: 15_000, what: 'the segment references' });
    expect(references[0]).toMatchObject({ service: 'experiments', segmentKeys: ['camera-intent'], revision: 1 });
  });

  it('assigns nobody before it runs; running, it assigns targeted customers as the GrowthBook SDK does, records each first exposure once, and answers over NATS', async () => {
    const outsider = randomUUID();
    expect((await assign('checkout-camera-offer', outsider).expect(200)).body).toMatchObject({ inExperiment: false, reason: 'the experiment is draft', variant: null });
    await http.post('/v1/experiments/checkout-camera-offer/status').set(admin).send({ status: 'running' }).expect(200);

    const customers = Array.from({ length: 40 }, () => randomUUID());
    await enter(customers, 'camera-intent');
    const last = customers[customers.length - 1];
    await waitFor(async () => (await assign('checkout-camera-offer', last, false)).body.reason !== 'not in any of the targeted segments (camera-intent)', {
      timeoutMs: 15_000,
      what: 'the memberships applied',
    });
    for (const profileId of customers) {
      const answer = (await assign('checkout-camera-offer', profileId).expect(200)).body;
      expect(answer.inExperiment ? answer.variant.key : null).toBe(growthbookVariant(profileId, 'checkout-camera-offer', 0.8));
    }
    const inIt = customers.filter((p) => growthbookVariant(p, 'checkout-camera-offer', 0.8) !== null);
    expect(inIt.length).toBeGreaterThan(0);
    expect(inIt.length).toBeLessThan(customers.length);
    expect((await assign('checkout-camera-offer', outsider).expect(200)).body).toMatchObject({ inExperiment: false, reason: 'not in any of the targeted segments (camera-intent)' });

    // A second ask returns the first exposure's time; experiments.exposed is published once per customer.
    const first = (await assign('checkout-camera-offer', inIt[0]).expect(200)).body;
    const again = (await assign('checkout-camera-offer', inIt[0]).expect(200)).body;
    expect(again.exposedAt).toBe(first.exposedAt);
    await waitFor(async () => exposed.length === inIt.length, { timeoutMs: 15_000, what: 'one exposure per customer in the experiment' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(new Set(exposed.map((e) => e.profileId)).size).toBe(inIt.length);
    expect(exposed.length).toBe(inIt.length);

    // NATS request/reply for services that do not assign in process.
    const reply = await nc.request(
      `${service.prefix}.experiments-api.assign`,
      codec.encode({ pattern: 'experiments-api.assign', data: { experiment: 'checkout-camera-offer', profileId: inIt[0], expose: false }, id: '1' }),
      { timeout: 5000 },
    );
    const decoded = codec.decode(reply.data);
    expect((decoded as { response: unknown }).response).toMatchObject({ inExperiment: true, variant: { key: growthbookVariant(inIt[0], 'checkout-camera-offer', 0.8) } });
  });

  it('lets a running experiment grow its traffic (nobody moves) but not change its variants; stopped is final', async () => {
    const customers = Array.from({ length: 60 }, () => randomUUID());
    await enter(customers, 'camera-intent');
    const last = customers[customers.length - 1];
    await waitFor(async () => (await assign('checkout-camera-offer', last, false)).body.reason !== 'not in any of the targeted segments (camera-intent)', { timeoutMs: 15_000, what: 'memberships' });
    const before = new Map<string, string | null>();
    for (const p of customers) {
      const a = (await assign('checkout-camera-offer', p, false)).body;
      before.set(p, a.inExperiment ? a.variant.key : null);
    }
    const moved = await http
      .patch('/v1/experiments/checkout-camera-offer')
      .set(admin)
      .send({
        definition: {
          ...definition,
          variants: [
            { ...definition.variants[0], weight: 0.3 },
            { ...definition.variants[1], weight: 0.7 },
          ],
        },
      })
      .expect(409);
    expect(moved.body.details).toEqual([{ field: 'definition.variants', problem: 'cannot change while the experiment runs' }]);
    const grown = (
      await http
        .patch('/v1/experiments/checkout-camera-offer')
        .set(admin)
        .send({ definition: { ...definition, targeting: { ...definition.targeting, trafficShare: 1 } } })
        .expect(200)
    ).body;
    expect(grown.definition.targeting.trafficShare).toBe(1);
    for (const p of customers) {
      const a = (await assign('checkout-camera-offer', p, false)).body;
      const now = a.inExperiment ? a.variant.key : null;
      // Nobody moves between variants; some who were out are in.
      if (before.get(p) !== null) expect(now).toBe(before.get(p));
      expect(now).toBe(growthbookVariant(p, 'checkout-camera-offer', 1));
    }
    await http.post('/v1/experiments/checkout-camera-offer/status').set(admin).send({ status: 'stopped' }).expect(200);
    await http.post('/v1/experiments/checkout-camera-offer/status').set(admin).send({ status: 'running' }).expect(409);
    await http.patch('/v1/experiments/checkout-camera-offer').set(admin).send({ name: 'x' }).expect(409);
    expect((await assign('checkout-camera-offer', customers[0]).expect(200)).body).toMatchObject({ inExperiment: false, reason: 'the experiment is stopped' });
    await waitFor(async () => references.some((r) => r.segmentKeys.length === 0), { timeoutMs: 15_000, what: 'the references dropped' });
    const listed = (
      await http
        .get('/v1/experiments')
        .query({ status: 'stopped' })
        .set({ Authorization: `Bearer ${keys.read}` })
        .expect(200)
    ).body;
    expect(listed.experiments.map((e: { key: string }) => e.key)).toEqual(['checkout-camera-offer']);
  });

  it('answers concurrent first exposures of the same customers with one stored exposure each (written in group commits)', async () => {
    await http
      .post('/v1/experiments')
      .set(admin)
      .send({
        key: 'burst',
        name: 'Burst',
        definition: {
          variants: [
            { key: 'a', weight: 0.5 },
            { key: 'b', weight: 0.5 },
          ],
          targeting: { trafficShare: 0.9 },
        },
      })
      .expect(201);
    await http.post('/v1/experiments/burst/status').set(admin).send({ status: 'running' }).expect(200);
    const customers = Array.from({ length: 100 }, () => randomUUID());
    // Each customer asks three times at once: 300 requests in flight together.
    const answers = await Promise.all(customers.flatMap((p) => [0, 1, 2].map(async () => ({ p, body: (await assign('burst', p).expect(200)).body }))));
    const inIt = new Set<string>();
    for (const p of customers) {
      const mine = answers.filter((a) => a.p === p).map((a) => a.body);
      const expected = (() => {
        const gb = new GrowthBook({ attributes: { id: p } });
        const result = gb.run({ key: 'burst', seed: 'burst', variations: ['a', 'b'], weights: [0.5, 0.5], coverage: 0.9, hashVersion: 2 });
        gb.destroy();
        return result.inExperiment ? result.value : null;
      })();
      expect(mine.map((b) => (b.inExperiment ? b.variant.key : null))).toEqual([expected, expected, expected]);
      if (expected === null) continue;
      inIt.add(p);
      expect(new Set(mine.map((b) => b.exposedAt)).size).toBe(1);
    }
    await waitFor(async () => exposed.filter((e) => e.key === 'burst').length === inIt.size, { timeoutMs: 15_000, what: 'one experiments.exposed per customer' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      exposed
        .filter((e) => e.key === 'burst')
        .map((e) => e.profileId)
        .sort(),
    ).toEqual([...inIt].sort());
    const results = (await http.get('/v1/experiments/burst/results').set(admin).expect(200)).body;
    expect(results.srm.users.a + results.srm.users.b).toBe(inIt.size);
  });

  it('plans an experiment: customers per variant and days, with the field that is wrong named', async () => {
    const reader = { Authorization: `Bearer ${keys.read}` };
    // The datasets README's example: baseline 0.20, +0.05, α 0.05, power 0.8 → 1,030.2 per arm; 200 a day at half traffic.
    expect(
      (await http.get('/v1/experiments/sample-size').set(reader).query({ metric: 'conversion', baseline: 0.2, absoluteLift: 0.05, dailyTraffic: 200, trafficShare: 0.5 }).expect(200)).body,
    ).toEqual({
      perVariant: 1031,
      total: 2062,
      days: 21,
      absoluteLift: 0.05,
      alphaPerComparison: 0.05,
      power: 0.8,
      variants: 2,
    });
    expect((await http.get('/v1/experiments/sample-size').set(reader).query({ metric: 'mean', absoluteLift: 5 }).expect(400)).body.details).toEqual([
      { field: 'standardDeviation', problem: 'a mean needs the per-customer standard deviation, above 0' },
    ]);
    expect((await http.get('/v1/experiments/sample-size').set(reader).query({ metric: 'conversion', baseline: 0.2, absoluteLift: 0.05, power: 2 }).expect(400)).body.details[0].field).toBe('power');
  });
});
