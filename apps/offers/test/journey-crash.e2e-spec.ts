import { randomUUID } from 'node:crypto';
import { JSONCodec } from 'nats';
import { SUBJECTS, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { offersProcessFixture, type OffersProcessFixture } from './offers-process-fixture';
import { journeyReceiver } from './webhook-receiver';

/**
 * Journeys killed mid-step (issue 20): offers as a process on its own database and stream
 * namespace, SIGKILLed while its executor runs the due steps of a few thousand enrollments and its
 * deliveries go out, then started again. Waits survive the restart, every step runs exactly once per
 * enrollment (a round that was cut off is rolled back and runs again), and every customer's email
 * is delivered under one webhook-id (a POST cut off before it was recorded is sent again with the
 * same id, which receivers drop as a repeat).
 */
jest.setTimeout(240_000);

const CUSTOMERS = 2000;
const codec = JSONCodec();

const describeWithServer = process.env.DATABASE_URL ? describe : describe.skip;

describeWithServer('journeys survive a SIGKILL mid-step', () => {
  let fixture: OffersProcessFixture;
  let offers: ServiceProcess;
  const receiver = journeyReceiver();
  // Small rounds, so the kill lands in the middle of one.
  const start = () => fixture.start({ JOURNEY_POLL_MS: '200', JOURNEY_BATCH_SIZE: '50' });

  beforeAll(async () => {
    await receiver.start();
    fixture = await offersProcessFixture('jrncrash');
  });

  afterAll(async () => {
    await fixture?.stop();
    await receiver.stop();
  });

  const call = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${offers.url}${path}`, { method, headers: { authorization: `Bearer ${fixture.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const count = (query: string) => fixture.count(query);
  const distinctIds = () => new Set(receiver.on('/email').map((r) => r.headers['webhook-id']));

  it('runs each step once per enrollment and delivers each email once per customer across a kill and a restart', async () => {
    offers = await start();
    // A short attempt timeout: deliveries leased by the killed process are tried again 16 s later.
    const channel = await call('PUT', '/v1/channels/email', { type: 'webhook', url: `${receiver.url}/email`, timeoutMs: 1000 });
    expect(channel.status).toBe(200);
    receiver.secrets.set('/email', (channel.body.secrets as string[])[0]);
    const definition = {
      trigger: { type: 'segment_entered', segment: 'crash-test' },
      steps: [
        { id: 'settle', type: 'wait', duration: 'PT2S', next: 'email' },
        { id: 'email', type: 'send', channel: 'email', message: { template: 'hello' }, next: 'after' },
        { id: 'after', type: 'wait', duration: 'PT1S', next: null },
      ],
    };
    expect((await call('POST', '/v1/journeys', { key: 'crash', name: 'Crash', definition })).status).toBe(201);
    expect((await call('POST', '/v1/journeys/crash/status', { status: 'active' })).status).toBe(200);

    const customers = Array.from({ length: CUSTOMERS }, () => randomUUID());
    const segmentId = randomUUID();
    const js = fixture.nc.jetstream();
    const subject = `${fixture.namespace.prefix}.${SUBJECTS.segmentsEntered}`;
    for (let i = 0; i < CUSTOMERS; i += 250)
      await Promise.all(
        customers.slice(i, i + 250).map((profileId, j) => {
          const data: SegmentMembershipChangedV1 = { seq: i + j + 1, segmentId, segmentKey: 'crash-test', segmentVersion: 1, profileId, change: 'entered', at: new Date().toISOString() };
          return js.publish(subject, codec.encode(createEnvelope(SUBJECTS.segmentsEntered, data)));
        }),
      );

    // Killed while steps run and emails go out: some customers have had theirs, others wait.
    await waitFor(async () => distinctIds().size >= 200, { timeoutMs: 90_000, what: 'the first emails' });
    await offers.kill();
    const atKill = { emails: distinctIds().size, completed: await count(`select count(*) as n from offers.journey_enrollments where status = 'completed'`) };
    expect(atKill.emails).toBeLessThan(CUSTOMERS);

    offers = await start();
    await waitFor(async () => (await count(`select count(*) as n from offers.journey_enrollments where status = 'completed'`)) === CUSTOMERS, {
      timeoutMs: 150_000,
      what: `all ${CUSTOMERS} enrollments completed (${atKill.completed} at the kill, ${atKill.emails} emails)`,
    });
    await waitFor(async () => distinctIds().size === CUSTOMERS && (await count(`select count(*) as n from offers.journey_deliveries where status <> 'delivered'`)) === 0, {
      timeoutMs: 60_000,
      what: 'every email delivered',
    });

    const rows = (
      await fixture.client.query<{ enrollments: string; customers: string; runs: string; wait_runs: string; send_runs: string; deliveries: string; delivered_customers: string }>(
        `select (select count(*) from offers.journey_enrollments) as enrollments,
           (select count(distinct profile_id) from offers.journey_enrollments) as customers,
           (select count(*) from offers.journey_step_runs) as runs,
           (select count(*) from offers.journey_step_runs where step_id = 'settle') as wait_runs,
           (select count(*) from offers.journey_step_runs where step_id = 'email' and outcome = 'sent') as send_runs,
           (select count(*) from offers.journey_deliveries) as deliveries,
           (select count(distinct profile_id) from offers.journey_deliveries) as delivered_customers`,
      )
    ).rows[0];
    expect(rows).toEqual({
      enrollments: String(CUSTOMERS),
      customers: String(CUSTOMERS),
      runs: String(3 * CUSTOMERS),
      wait_runs: String(CUSTOMERS),
      send_runs: String(CUSTOMERS),
      deliveries: String(CUSTOMERS),
      delivered_customers: String(CUSTOMERS),
    });
    // Each customer got one email id: a repeat POST (cut off by the kill before it was recorded) carries the same id.
    const idsByCustomer = new Map<string, Set<string>>();
    for (const r of receiver.on('/email')) idsByCustomer.set(r.payload.profileId, (idsByCustomer.get(r.payload.profileId) ?? new Set()).add(r.headers['webhook-id']));
    expect(idsByCustomer.size).toBe(CUSTOMERS);
    expect([...idsByCustomer.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(receiver.on('/email').every((r) => r.verified)).toBe(true);
  });
});
