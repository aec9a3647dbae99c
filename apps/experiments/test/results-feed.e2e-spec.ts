import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { sql } from 'drizzle-orm';
import { SUBJECTS, type Envelope, type ExperimentResultsV1, type ProfileActivityV1 } from '@segmenta/contracts';
import { seededRandom } from '@segmenta/analytics';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { waitFor } from '@segmenta/infra';
import { DATABASE, availableTestDrivers, queryRows, type Database } from '@segmenta/persistence';
import { startExperiments } from '../src/start';
import { publishAll, segmentEntries, testCustomerId } from './experiment-test-data';

/**
 * The results feed (issue 22) against real NATS and PostgreSQL: a running experiment with a `vip`
 * breakdown, published on demand as experiments.results, carries per segment the same means and
 * lifts as GET /v1/experiments/:key/results?by=segment; a stopped experiment's final results say
 * stopped; a draft has none. The schedule publishes every running experiment.
 */
jest.setTimeout(120_000);

const ADMIN = 'experiments-results-feed-e2e-admin-key-01';
const codec = JSONCodec<Envelope>();
const CUSTOMERS = 400;
const customerId = (i: number) => testCustomerId(40_000 + i);

const driver = availableTestDrivers()[0];

describe(`experiment results feed (${driver})`, () => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  let personalize: string;
  const admin = { Authorization: `Bearer ${ADMIN}` };
  const published: ExperimentResultsV1[] = [];

  beforeAll(async () => {
    // The schedule every second: the last test waits for it.
    service = await startServiceUnderTest(startExperiments, {
      label: 'expfeed',
      driver,
      env: { ADMIN_API_KEY: ADMIN, SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0', EXPERIMENTS_RESULTS_CRON: '* * * * * *' },
    });
    http = request(service.app.getHttpServer());
    personalize = (await issueTestApiKeys(service.app)).personalize;
    nc = await connect({ servers: service.natsUrl });
    const sub = nc.subscribe(`${service.prefix}.${SUBJECTS.experimentsResults}`);
    void (async () => {
      for await (const msg of sub) published.push(codec.decode(msg.data).data as ExperimentResultsV1);
    })();
    await nc.flush();
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  const publish = (subject: string, items: unknown[], ids?: string[]) => publishAll(nc, service.prefix, subject, items, ids);

  async function create(key: string): Promise<void> {
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
          metrics: [{ key: 'orders', type: 'conversion', event: 'Order Completed', days: 14 }],
        },
      })
      .expect(201);
  }

  const start = (key: string) => http.post(`/v1/experiments/${key}/status`).set(admin).send({ status: 'running' }).expect(200);

  it('publishes a running experiment’s results by segment with the means and lifts of its results route', async () => {
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => customerId(i));
    // Half are VIPs, members before their exposure: the vip breakdown rows count them.
    await publish(
      SUBJECTS.segmentsEntered,
      segmentEntries(
        customers.filter((_, i) => i % 2 === 0),
        'vip',
      ),
    );
    const database = service.app.get<Database<Record<string, unknown>>>(DATABASE);
    const count = async (query: ReturnType<typeof sql>) => Number((await queryRows<{ n: string }>(database.db, query))[0].n);
    await waitFor(async () => (await count(sql`select count(*) as n from experiments.memberships where member`)) === CUSTOMERS / 2, { timeoutMs: 30_000, what: 'the memberships' });

    await create('feed-planted');
    await start('feed-planted');
    const variantOf = new Map<string, string>();
    for (let i = 0; i < customers.length; i += 50)
      await Promise.all(
        customers.slice(i, i + 50).map(async (profileId) => {
          const answer = await http
            .post('/v1/experiments/feed-planted/assignments')
            .set({ Authorization: `Bearer ${personalize}` })
            .send({ profileId })
            .expect(200);
          variantOf.set(profileId, answer.body.variant.key);
        }),
      );
    // Planted: 10 % of the control convert, 30 % of the treatment.
    const random = seededRandom(11);
    const orders = customers.flatMap((profileId, i): ProfileActivityV1[] =>
      random() < (variantOf.get(profileId) === 'treatment' ? 0.3 : 0.1)
        ? [{ profileId, eventId: `feed-order-${i}`, type: 'track', name: 'Order Completed', properties: { revenue: 50 }, traits: {}, occurredAt: new Date().toISOString() }]
        : [],
    );
    await publish(SUBJECTS.profilesActivity, orders);
    await waitFor(async () => (await count(sql`select count(*) as n from experiments.metric_values where metric_key = 'orders' and value = 1`)) === orders.length, {
      timeoutMs: 60_000,
      what: 'every conversion',
    });

    const answer = (await http.post('/v1/experiments/feed-planted/results/publish').set(admin).expect(200)).body as ExperimentResultsV1;
    await waitFor(() => published.some((m) => m.key === 'feed-planted' && m.at === answer.at), { timeoutMs: 15_000, what: 'experiments.results published' });
    const message = published.find((m) => m.key === 'feed-planted' && m.at === answer.at) as ExperimentResultsV1;
    expect(message).toEqual(answer);
    expect(message).toMatchObject({ key: 'feed-planted', kind: 'experiment', status: 'running' });
    expect(message.segments.map((s) => s.segmentKey)).toEqual(['vip']);

    // The same numbers as the results route, segment by segment and for everyone.
    const results = (await http.get('/v1/experiments/feed-planted/results').query({ by: 'segment' }).set(admin).expect(200)).body;
    const route = results.metrics.find((m: { key: string }) => m.key === 'orders');
    const check = (segment: string | null, metric: ExperimentResultsV1['overall'][number]) => {
      const row = route.segments.find((s: { segment: string | null }) => s.segment === segment);
      expect(metric.control).toEqual({ variant: 'control', n: row.variants[0].n, mean: row.variants[0].mean });
      const [treatment] = metric.variants;
      const comparison = row.comparisons[0];
      expect(treatment).toEqual({
        variant: 'treatment',
        n: row.variants[1].n,
        mean: row.variants[1].mean,
        lift: { estimate: comparison.frequentist.absolute.estimate, ci: comparison.frequentist.absolute.ci, pValue: comparison.frequentist.absolute.pValue },
        relativeLift: comparison.frequentist.relative.estimate,
        pValueAdjusted: comparison.pValueAdjusted,
        chanceToBeatControl: comparison.bayesian.chanceToBeatControl,
      });
    };
    const [vipOrders] = message.segments[0].metrics;
    expect(vipOrders.metricKey).toBe('orders');
    check('vip', vipOrders);
    check(null, message.overall[0]);
    // The vip rows count the VIPs alone; the planted lift shows.
    expect(vipOrders.control.n + vipOrders.variants[0].n).toBe(CUSTOMERS / 2);
    expect(vipOrders.variants[0].lift?.estimate).toBeGreaterThan(0);
    expect(vipOrders.variants[0].pValueAdjusted).not.toBeNull();
  });

  it('publishes a stopped experiment’s final results as stopped, refuses a draft and answers 404 for an unknown key', async () => {
    await http.post('/v1/experiments/feed-planted/status').set(admin).send({ status: 'stopped' }).expect(200);
    const stopped = (await http.post('/v1/experiments/feed-planted/results/publish').set(admin).expect(200)).body as ExperimentResultsV1;
    expect(stopped.status).toBe('stopped');
    await waitFor(() => published.some((m) => m.key === 'feed-planted' && m.status === 'stopped'), { timeoutMs: 15_000, what: 'the final results' });

    await create('feed-draft');
    expect((await http.post('/v1/experiments/feed-draft/results/publish').set(admin).expect(409)).body.details).toEqual([{ field: 'status', problem: 'draft' }]);
    await http.post('/v1/experiments/no-such-experiment/results/publish').set(admin).expect(404);
    await http.post('/v1/experiments/feed-draft/results/publish').expect(401);
  });

  it('publishes every running experiment on the schedule, and only those', async () => {
    await create('feed-scheduled');
    await start('feed-scheduled');
    const since = published.length;
    await waitFor(() => published.slice(since).some((m) => m.key === 'feed-scheduled'), { timeoutMs: 15_000, what: 'a scheduled publication' });
    const later = published.slice(since);
    expect(later.find((m) => m.key === 'feed-scheduled')).toMatchObject({ status: 'running', segments: [] });
    expect(later.some((m) => m.key === 'feed-draft' || m.key === 'feed-planted')).toBe(false);
  });
});
