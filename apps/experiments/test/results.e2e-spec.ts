import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type ProfileActivityV1, type ProfileUpdatedV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { seededRandom } from '@segmenta/analytics';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { DATABASE, availableTestDrivers, queryRows, type Database } from '@segmenta/persistence';
import { sql } from 'drizzle-orm';
import { startExperiments } from '../src/start';

/**
 * Results from streaming aggregates (issue 21) against real NATS and PostgreSQL: 2,000 customers
 * exposed through the assignment API, conversions and revenue (with refunds, and events sent twice)
 * arriving as profiles.activity. The aggregates equal what the test computes itself from what it
 * sent; the planted lift lies inside its interval; segments get their own rows; a skewed exposure
 * is flagged as a sample-ratio mismatch.
 */
jest.setTimeout(180_000);

const ADMIN = 'experiments-results-e2e-admin-key-01';
const codec = JSONCodec();
const CUSTOMERS = 2000;

const customerId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

// One driver (2,000 customers twice over): the server when there is one, else the embedded PGlite.
const driver = availableTestDrivers()[0];

describe(`experiment results (${driver})`, () => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  let personalize: string;
  const admin = { Authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    service = await startServiceUnderTest(startExperiments, { label: 'expres', driver, env: { ADMIN_API_KEY: ADMIN, SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' } });
    http = request(service.app.getHttpServer());
    personalize = (await issueTestApiKeys(service.app)).personalize;
    nc = await connect({ servers: service.natsUrl });
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  const publish = async (subject: string, items: unknown[], ids?: string[]) => {
    const js = nc.jetstream();
    for (let i = 0; i < items.length; i += 200)
      await Promise.all(items.slice(i, i + 200).map((data, j) => js.publish(`${service.prefix}.${subject}`, codec.encode(createEnvelope(subject, data, { id: ids?.[i + j] ?? randomUUID() })))));
  };

  async function start(key: string): Promise<void> {
    await http
      .post('/v1/experiments')
      .set(admin)
      .send({
        key,
        name: key,
        definition: {
          variants: [
            { key: 'control', weight: 0.5 },
            { key: 'treatment', weight: 0.5 },
          ],
          metrics: [
            { key: 'orders', type: 'conversion', event: 'Order Completed', days: 14 },
            { key: 'revenue', type: 'revenue', days: 14 },
          ],
        },
      })
      .expect(201);
    await http.post(`/v1/experiments/${key}/status`).set(admin).send({ status: 'running' }).expect(200);
  }

  const assign = async (key: string, profileId: string, expose = true): Promise<string> =>
    (
      await http
        .post(`/v1/experiments/${key}/assignments`)
        .set({ Authorization: `Bearer ${personalize}` })
        .send({ profileId, expose })
        .expect(200)
    ).body.variant.key;

  it('keeps aggregates equal to a recomputation of what was sent, shows the planted lift inside its interval, by segment too', async () => {
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => customerId(i));
    // Half are VIPs (their memberships arrive before their exposure, so they count in the vip rows).
    await publish(
      SUBJECTS.segmentsEntered,
      customers
        .filter((_, i) => i % 2 === 0)
        .map((profileId, i): SegmentMembershipChangedV1 => ({ seq: i + 1, segmentId: randomUUID(), segmentKey: 'vip', segmentVersion: 1, profileId, change: 'entered', at: new Date().toISOString() })),
    );
    const database = service.app.get<Database<Record<string, unknown>>>(DATABASE);
    const count = async (query: ReturnType<typeof sql>) => Number((await queryRows<{ n: string }>(database.db, query))[0].n);
    await waitFor(async () => (await count(sql`select count(*) as n from experiments.memberships where member`)) === CUSTOMERS / 2, { timeoutMs: 30_000, what: 'the memberships' });

    // Revenue to date before exposure (CUPED's covariate): 1,000 × a latent draw that also decides who converts, so it predicts the outcome.
    const latent = customers.map(() => 0);
    const draw = seededRandom(7);
    for (let i = 0; i < customers.length; i += 1) latent[i] = draw();
    await publish(
      SUBJECTS.profilesUpdated,
      customers.map((profileId, i): ProfileUpdatedV1 => ({ profileId, traits: {}, features: { revenue: 1000 * latent[i] }, full: false, updatedAt: new Date().toISOString() })),
    );
    await waitFor(async () => (await count(sql`select count(*) as n from experiments.profile_revenue`)) === CUSTOMERS, { timeoutMs: 30_000, what: 'the covariates' });

    await start('planted');
    const variantOf = new Map<string, string>();
    for (let i = 0; i < customers.length; i += 50) await Promise.all(customers.slice(i, i + 50).map(async (p) => variantOf.set(p, await assign('planted', p))));

    // Planted: 10 % convert in control, 20 % in treatment; each order 100, a fifth refunded by 30.
    const random = seededRandom(42);
    const events: ProfileActivityV1[] = [];
    const truth = new Map<string, { n: number; conversions: number; revenue: number; revenueSquares: number; covariate: number }>();
    const vipTruth = new Map<string, { n: number; conversions: number }>();
    for (const [i, profileId] of customers.entries()) {
      const variant = variantOf.get(profileId) as string;
      const converts = latent[i] < (variant === 'treatment' ? 0.2 : 0.1);
      const refunded = converts && random() < 0.2;
      const revenue = converts ? 100 - (refunded ? 30 : 0) : 0;
      const t = truth.get(variant) ?? { n: 0, conversions: 0, revenue: 0, revenueSquares: 0, covariate: 0 };
      truth.set(variant, {
        n: t.n + 1,
        conversions: t.conversions + (converts ? 1 : 0),
        revenue: t.revenue + revenue,
        revenueSquares: t.revenueSquares + revenue * revenue,
        covariate: (t.covariate ?? 0) + 1000 * latent[i],
      });
      if (i % 2 === 0) {
        const v = vipTruth.get(variant) ?? { n: 0, conversions: 0 };
        vipTruth.set(variant, { n: v.n + 1, conversions: v.conversions + (converts ? 1 : 0) });
      }
      const at = new Date().toISOString();
      if (converts) events.push({ profileId, eventId: `order-${i}`, type: 'track', name: 'Order Completed', properties: { order_id: `o-${i}`, revenue: 100 }, traits: {}, occurredAt: at });
      if (refunded) events.push({ profileId, eventId: `refund-${i}`, type: 'track', name: 'Order Refunded', properties: { order_id: `o-${i}`, total: 30 }, traits: {}, occurredAt: at });
      if (i % 7 === 0) events.push({ profileId, eventId: `view-${i}`, type: 'track', name: 'Product Viewed', properties: {}, traits: {}, occurredAt: at });
    }
    await publish(SUBJECTS.profilesActivity, events);
    // The same events again (a resend upstream: new envelopes, the same messageIds): counted once.
    await publish(SUBJECTS.profilesActivity, events.slice(0, 150));
    const conversions = [...truth.values()].reduce((s, t) => s + t.conversions, 0);
    await waitFor(async () => (await count(sql`select count(*) as n from experiments.metric_values where metric_key = 'orders' and value = 1`)) === conversions, {
      timeoutMs: 60_000,
      what: 'every conversion',
    });
    await waitFor(async () => (await count(sql`select count(*) as n from experiments.inbox where consumer = 'experiments-activity'`)) === events.length, {
      timeoutMs: 30_000,
      what: 'every event applied',
    });

    const results = (await http.get('/v1/experiments/planted/results').query({ by: 'segment' }).set(admin).expect(200)).body;
    expect(results.srm.flagged).toBe(false);
    expect(results.srm.users).toEqual({ control: truth.get('control')?.n, treatment: truth.get('treatment')?.n });
    const metric = (key: string) => results.metrics.find((m: { key: string }) => m.key === key);
    const overall = (key: string) => metric(key).segments.find((s: { segment: string | null }) => s.segment === null);
    for (const variant of ['control', 'treatment']) {
      const t = truth.get(variant) as { n: number; conversions: number; revenue: number };
      const orders = overall('orders').variants.find((v: { key: string }) => v.key === variant);
      const revenue = overall('revenue').variants.find((v: { key: string }) => v.key === variant);
      expect(orders).toMatchObject({ n: t.n });
      expect(orders.mean).toBeCloseTo(t.conversions / t.n, 12);
      expect(revenue.mean).toBeCloseTo(t.revenue / t.n, 9);
    }
    // The aggregates equal a recomputation from the raw rows (exposures × metric values), sums of squares included.
    const raw = await queryRows<{ variant: string; n: string; sum_y: number; sum_y2: number }>(
      database.db,
      sql`select x.variant, count(*) as n, coalesce(sum(v.value), 0) as sum_y, coalesce(sum(v.value * v.value), 0) as sum_y2
        from experiments.exposures x join experiments.experiments e on e.id = x.experiment_id and e.key = 'planted'
        left join experiments.metric_values v on v.experiment_id = x.experiment_id and v.profile_id = x.profile_id and v.metric_key = 'revenue'
        group by x.variant order by x.variant`,
    );
    const stored = await queryRows<{ variant: string; n: string; sum_y: number; sum_y2: number }>(
      database.db,
      sql`select a.variant, a.n, a.sum_y, a.sum_y2 from experiments.aggregates a join experiments.experiments e on e.id = a.experiment_id and e.key = 'planted'
        where a.segment_key = '' and a.metric_key = 'revenue' order by a.variant`,
    );
    expect(stored.map((r) => [r.variant, Number(r.n), r.sum_y, r.sum_y2])).toEqual(raw.map((r) => [r.variant, Number(r.n), r.sum_y, r.sum_y2]));
    expect(stored.map((r) => r.sum_y2)).toEqual(['control', 'treatment'].map((v) => truth.get(v)?.revenueSquares));

    // Each exposure kept the customer's revenue before it: the covariate sums are the test's own.
    const covariates = await queryRows<{ variant: string; sum_x: number }>(
      database.db,
      sql`select a.variant, a.sum_x from experiments.aggregates a join experiments.experiments e on e.id = a.experiment_id and e.key = 'planted'
        where a.segment_key = '' and a.metric_key = 'revenue' order by a.variant`,
    );
    covariates.forEach((r) => expect(r.sum_x).toBeCloseTo(truth.get(r.variant)?.covariate as number, 6));
    // CUPED: the covariate predicts revenue here, so the adjusted interval is narrower than the plain one.
    const revenueLift = overall('revenue').comparisons[0];
    const width = (ci: [number, number]) => ci[1] - ci[0];
    expect(revenueLift.cuped).not.toBeNull();
    expect(width(revenueLift.cuped.ci)).toBeLessThan(0.8 * width(revenueLift.frequentist.absolute.ci));
    // The planted revenue lift: 10 more orders in 100 of about 94 each (a fifth refunded by 30).
    expect(revenueLift.cuped.ci[0]).toBeLessThan(9.4);
    expect(revenueLift.cuped.ci[1]).toBeGreaterThan(9.4);

    // The planted lift (0.20 − 0.10) inside the interval, and a clear win.
    const comparison = overall('orders').comparisons[0];
    expect(comparison.variant).toBe('treatment');
    expect(comparison.frequentist.absolute.ci[0]).toBeLessThan(0.1);
    expect(comparison.frequentist.absolute.ci[1]).toBeGreaterThan(0.1);
    expect(comparison.frequentist.absolute.pValue).toBeLessThan(0.001);
    expect(comparison.bayesian.chanceToBeatControl).toBeGreaterThan(0.99);
    expect(comparison.sequential.ci[0]).toBeLessThan(comparison.frequentist.absolute.ci[0]);
    // The vip segment has its own row, counted from its members only, with a Holm-adjusted p-value.
    const vip = metric('orders').segments.find((s: { segment: string | null }) => s.segment === 'vip');
    for (const variant of ['control', 'treatment']) {
      const v = vipTruth.get(variant) as { n: number; conversions: number };
      expect(vip.variants.find((x: { key: string }) => x.key === variant)).toMatchObject({ n: v.n });
      expect(vip.variants.find((x: { key: string }) => x.key === variant).mean).toBeCloseTo(v.conversions / v.n, 12);
    }
    expect(vip.comparisons[0].pValueAdjusted).toBeGreaterThanOrEqual(vip.comparisons[0].frequentist.absolute.pValue);
  });

  it('flags a sample-ratio mismatch when exposures are lost in one variant', async () => {
    await start('skewed');
    const customers = Array.from({ length: 2000 }, (_, i) => customerId(10_000 + i));
    // Everyone asks (no exposure); then every control customer is exposed but only 80 % of the treatment's (tracking lost the rest).
    let dropped = 0;
    for (let i = 0; i < customers.length; i += 50)
      await Promise.all(
        customers.slice(i, i + 50).map(async (p, j) => {
          const variant = await assign('skewed', p, false);
          if (variant === 'treatment' && (i + j) % 5 === 0) dropped += 1;
          else await assign('skewed', p, true);
        }),
      );
    const results = (await http.get('/v1/experiments/skewed/results').set(admin).expect(200)).body;
    expect(results.srm.users.control + results.srm.users.treatment).toBe(customers.length - dropped);
    expect(results.srm.flagged).toBe(true);
    expect(results.srm.pValue).toBeLessThan(0.001);
    expect(results.warnings[0]).toMatch(/^sample-ratio mismatch/);
  });
});
