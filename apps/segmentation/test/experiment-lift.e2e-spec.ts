import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type Envelope, type ExperimentChangedV1, type ExperimentMetricLiftV1, type ExperimentResultsV1, type SegmentKpisV1 } from '@segmenta/contracts';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { startSegmentation } from '../src/start';

/**
 * Experiment results in the KPI view (issue 22) against real NATS and PostgreSQL: experiments.results
 * for a segment shows as its lift per running experiment on GET /v1/segments/:id/kpis and in the
 * segments.kpis messages; a newer result replaces it, an older one does not; a stop (final results
 * or experiments.changed) takes the experiment out for good; invalid data is dead-lettered.
 */
jest.setTimeout(60_000);

const ADMIN = 'segmentation-lift-e2e-admin-key-0123456789';
const NEVER = '0 0 1 1 *';
const codec = JSONCodec<Envelope>();

const orders = (controlMean: number, treatmentMean: number, estimate: number): ExperimentMetricLiftV1 => ({
  metricKey: 'orders',
  type: 'conversion',
  control: { variant: 'control', n: 200, mean: controlMean },
  variants: [
    {
      variant: 'treatment',
      n: 201,
      mean: treatmentMean,
      lift: { estimate, ci: [estimate - 0.05, estimate + 0.05], pValue: 0.004 },
      relativeLift: estimate / controlMean,
      pValueAdjusted: 0.008,
      chanceToBeatControl: 0.998,
    },
  ],
});

describe('experiment lift in segment KPIs', () => {
  let service: ServiceUnderTest;
  let nc: NatsConnection;
  let http: ReturnType<typeof request>;
  const auth = { Authorization: `Bearer ${ADMIN}` };
  const kpiMessages: SegmentKpisV1[] = [];

  beforeAll(async () => {
    service = await startServiceUnderTest(startSegmentation, {
      label: 'seglift',
      env: { ADMIN_API_KEY: ADMIN, LOG_LEVEL: 'warn', SEGMENTS_RECOMPUTE_CRON: NEVER, SEGMENTS_FULL_RECOMPUTE_CRON: NEVER, SEGMENTS_KPIS_CRON: NEVER, SEGMENTS_DISCOVER_CRON: NEVER },
    });
    http = request(service.app.getHttpServer());
    nc = await connect({ servers: service.natsUrl });
    const sub = nc.subscribe(`${service.prefix}.${SUBJECTS.segmentsKpis}`);
    void (async () => {
      for await (const msg of sub) kpiMessages.push(codec.decode(msg.data).data as SegmentKpisV1);
    })();
    await nc.flush();
    for (const key of ['lift-vip', 'lift-other'])
      await http
        .post('/v1/segments')
        .set(auth)
        .send({ key, name: key, definition: { trait: 'cohort', op: 'eq', value: key } })
        .expect(201);
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  const send = async (subject: string, data: unknown) => {
    await nc.jetstream().publish(`${service.prefix}.${subject}`, codec.encode(createEnvelope(subject, data)));
  };
  const results = (experimentId: string, key: string, at: Date, vip: ExperimentMetricLiftV1, status: ExperimentResultsV1['status'] = 'running'): ExperimentResultsV1 => ({
    experimentId,
    key,
    kind: 'experiment',
    status,
    at: at.toISOString(),
    overall: [orders(0.1, 0.2, 0.1)],
    segments: [
      { segmentKey: 'lift-vip', metrics: [vip] },
      { segmentKey: 'no-such-segment', metrics: [orders(0.3, 0.3, 0)] },
    ],
  });
  const liftOf = async (segment: string) =>
    (await http.get(`/v1/segments/${segment}/kpis`).set(auth).expect(200)).body.experiments as Array<{ key: string; at: string; metrics: ExperimentMetricLiftV1[] }>;

  it('shows a segment’s lift per running experiment, the newest results of each, on the KPI route and in segments.kpis', async () => {
    const checkout = randomUUID();
    const t0 = new Date(Date.now() - 60_000);
    await send(SUBJECTS.experimentsResults, results(checkout, 'checkout', t0, orders(0.1, 0.25, 0.15)));
    await waitFor(async () => (await liftOf('lift-vip')).length === 1, { what: 'the lift stored' });
    expect(await liftOf('lift-vip')).toEqual([{ experimentId: checkout, key: 'checkout', kind: 'experiment', at: t0.toISOString(), metrics: [orders(0.1, 0.25, 0.15)] }]);
    // A segment without its own breakdown shows none (everyone's row is not a segment's).
    expect(await liftOf('lift-other')).toEqual([]);

    // A newer result replaces it; then an older one, arriving late, changes nothing.
    const t1 = new Date(t0.getTime() + 30_000);
    await send(SUBJECTS.experimentsResults, results(checkout, 'checkout', t1, orders(0.1, 0.3, 0.2)));
    await waitFor(async () => (await liftOf('lift-vip'))[0]?.at === t1.toISOString(), { what: 'the newer lift' });
    await send(SUBJECTS.experimentsResults, results(checkout, 'checkout', new Date(t0.getTime() + 10_000), orders(0.1, 0.1, 0)));
    // A second experiment after the late one: once it shows, the late one was applied (in stream order).
    const banner = randomUUID();
    await send(SUBJECTS.experimentsResults, results(banner, 'banner', t1, orders(0.2, 0.22, 0.02)));
    await waitFor(async () => (await liftOf('lift-vip')).length === 2, { what: 'the second experiment' });
    const lifts = await liftOf('lift-vip');
    expect(lifts.map((l) => l.key)).toEqual(['banner', 'checkout']);
    expect(lifts[1]).toMatchObject({ at: t1.toISOString(), metrics: [orders(0.1, 0.3, 0.2)] });

    // The KPI snapshot carries the same, in its answer and its message.
    const snapshot = (await http.post('/v1/segments/kpis').set(auth).expect(200)).body;
    expect(snapshot.segments.find((s: { key: string }) => s.key === 'lift-vip').experiments).toEqual(lifts);
    await waitFor(() => kpiMessages.some((m) => m.segmentKey === 'lift-vip'), { what: 'segments.kpis published' });
    expect(kpiMessages.find((m) => m.segmentKey === 'lift-vip')?.experiments).toEqual(lifts);
    expect(kpiMessages.find((m) => m.segmentKey === 'lift-other')?.experiments).toEqual([]);
    // Next to the snapshot history.
    const history = (await http.get('/v1/segments/lift-vip/kpis').set(auth).expect(200)).body;
    expect(history.snapshots).toHaveLength(1);
    expect(history.experiments).toEqual(lifts);
  });

  it('takes a stopped experiment out for good, whether its final results or experiments.changed say so', async () => {
    const [byResults, byChange] = [randomUUID(), randomUUID()];
    const t0 = new Date(Date.now() - 60_000);
    await send(SUBJECTS.experimentsResults, results(byResults, 'stopped-by-results', t0, orders(0.1, 0.2, 0.1)));
    await send(SUBJECTS.experimentsResults, results(byChange, 'stopped-by-change', t0, orders(0.1, 0.2, 0.1)));
    const keys = async () => (await liftOf('lift-vip')).map((l) => l.key);
    await waitFor(async () => (await keys()).includes('stopped-by-results') && (await keys()).includes('stopped-by-change'), { what: 'both shown' });

    await send(SUBJECTS.experimentsResults, results(byResults, 'stopped-by-results', new Date(t0.getTime() + 1000), orders(0.1, 0.2, 0.1), 'stopped'));
    const stop: ExperimentChangedV1 = {
      experimentId: byChange,
      key: 'stopped-by-change',
      status: 'stopped',
      kind: 'experiment',
      revision: 3,
      seed: 'stopped-by-change',
      segments: [],
      trafficShare: 1,
      placement: null,
      namespace: null,
      variants: [],
      at: new Date(t0.getTime() + 1000).toISOString(),
    };
    await send(SUBJECTS.experimentsChanged, stop);
    await waitFor(async () => !(await keys()).some((k) => k.startsWith('stopped-by')), { what: 'both gone' });

    // Results computed before the stop and arriving after it (newer `at` even) bring nothing back.
    await send(SUBJECTS.experimentsResults, results(byChange, 'stopped-by-change', new Date(), orders(0.1, 0.2, 0.1)));
    const marker = randomUUID();
    await send(SUBJECTS.experimentsResults, results(marker, 'marker', new Date(), orders(0.1, 0.2, 0.1)));
    await waitFor(async () => (await keys()).includes('marker'), { what: 'the marker after the late results' });
    expect(await keys()).toEqual(['banner', 'checkout', 'marker']);
  });

  it('dead-letters results whose data is invalid and keeps consuming', async () => {
    const jsm = await nc.jetstreamManager();
    const dlq = `${service.prefix}_DLQ`;
    const before = (await jsm.streams.info(dlq)).state.messages;
    await send(SUBJECTS.experimentsResults, { experimentId: 'not-a-uuid', key: 'broken', kind: 'experiment', status: 'running', at: 'yesterday', overall: [], segments: 'all' });
    await waitFor(async () => (await jsm.streams.info(dlq)).state.messages === before + 1, { timeoutMs: 30_000, what: 'the invalid results dead-lettered' });
    const next = randomUUID();
    await send(SUBJECTS.experimentsResults, results(next, 'after-the-bad-one', new Date(), orders(0.1, 0.2, 0.1)));
    await waitFor(async () => (await liftOf('lift-vip')).some((l) => l.key === 'after-the-bad-one'), { what: 'the next results applied' });
  });
});
