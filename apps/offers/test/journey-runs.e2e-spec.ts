import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import {
  SUBJECTS,
  type JourneyDeliveredV1,
  type JourneySendV1,
  type LoyaltyPointsExpiringV1,
  type ProfileErasedV1,
  type ProfileMergedV1,
  type ProfileActivityV1,
  type SegmentReferencesV1,
  type SegmentMembershipChangedV1,
} from '@segmenta/contracts';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { DATABASE, availableTestDrivers, type Database } from '@segmenta/persistence';
import { sql } from 'drizzle-orm';
import { startOffers } from '../src/start';
import { journeyReceiver } from './webhook-receiver';

/**
 * Journeys running (issue 20) against real NATS and PostgreSQL (and PGlite): the camera example end
 * to end. Segment entries start a journey; its email goes to a local webhook receiver that checks
 * the Standard Webhooks signature with the `standardwebhooks` package; the unique code in it is
 * redeemed at checkout; re-entering sends nothing more; a customer over the channel's daily cap is
 * skipped with the reason; a points-expiring reminder fires from the loyalty event; retries, a
 * refusal, waits, branches and the report are checked on the way.
 */
jest.setTimeout(180_000);

const ADMIN = 'offers-journey-runs-e2e-admin-key-1';
const codec = JSONCodec();

describe.each(availableTestDrivers())('journeys running (%s)', (driver) => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  let personalize: string;
  let read: string;
  const receiver = journeyReceiver();
  const delivered: JourneyDeliveredV1[] = [];
  const references: SegmentReferencesV1[] = [];
  const admin = { Authorization: `Bearer ${ADMIN}` };
  let seq = 0;
  const segmentId = randomUUID();

  beforeAll(async () => {
    await receiver.start();
    service = await startServiceUnderTest(startOffers, { label: 'offjrun', driver, env: { ADMIN_API_KEY: ADMIN, JOURNEY_POLL_MS: '200', SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' } });
    http = request(service.app.getHttpServer());
    const keys = await issueTestApiKeys(service.app);
    personalize = keys.personalize;
    read = keys.read;
    nc = await connect({ servers: service.natsUrl });
    const sub = nc.subscribe(`${service.prefix}.${SUBJECTS.journeysDelivered}`);
    void (async () => {
      for await (const msg of sub) delivered.push((codec.decode(msg.data) as { data: JourneyDeliveredV1 }).data);
    })();
    const refs = nc.subscribe(`${service.prefix}.${SUBJECTS.offersSegmentReferences}`);
    void (async () => {
      for await (const msg of refs) references.push((codec.decode(msg.data) as { data: SegmentReferencesV1 }).data);
    })();
    await nc.flush();

    // The camera offer: 10 % off with a unique code per customer.
    await http
      .post('/v1/offers')
      .set(admin)
      .send({
        key: 'cameras-10',
        name: '10 % off cameras',
        description: 'For camera fans',
        reward: { type: 'percent_off', percent: 10 },
        placements: ['email', 'checkout'],
        startsAt: '2020-01-01T00:00',
        endsAt: null,
        timeZone: 'Europe/Berlin',
        coupons: { type: 'unique' },
      })
      .expect(201);
    await http
      .post('/v1/offers/cameras-10/codes')
      .set(admin)
      .send({ codes: ['CAM-0001', 'CAM-0002', 'CAM-0003', 'CAM-0004'] })
      .expect(201);
    await http.post('/v1/offers/cameras-10/status').set(admin).send({ status: 'active' }).expect(200);

    for (const [key, caps] of [
      ['email', { capPerDay: 1, capPerWeek: 3 }],
      ['reminders', {}],
      ['flaky', { retryForSeconds: 60 }],
      ['down', { retryForSeconds: 2 }],
    ] as const) {
      const channel = (
        await http
          .put(`/v1/channels/${key}`)
          .set(admin)
          .send({ type: 'webhook', url: `${receiver.url}/${key}`, ...caps })
          .expect(200)
      ).body;
      expect(channel.secrets).toHaveLength(1);
      receiver.secrets.set(`/${key}`, channel.secrets[0]);
    }
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
    await receiver.stop();
  });

  async function publish<T>(subject: string, data: T, id: string = randomUUID()): Promise<void> {
    await nc.jetstream().publish(`${service.prefix}.${subject}`, codec.encode(createEnvelope(subject, data, { id })));
  }

  const membership = (profileId: string, segmentKey: string, change: 'entered' | 'exited'): SegmentMembershipChangedV1 => ({
    seq: ++seq,
    segmentId: segmentKey === 'camera-fans-this-week' ? segmentId : randomUUID(),
    segmentKey,
    segmentVersion: 1,
    profileId,
    change,
    at: new Date().toISOString(),
  });

  const track = (profileId: string, name: string, properties: Record<string, unknown> = {}): ProfileActivityV1 => ({
    profileId,
    eventId: randomUUID(),
    type: 'track',
    name,
    properties,
    traits: {},
    occurredAt: new Date().toISOString(),
  });

  const report = async (key: string) =>
    (
      await http
        .get(`/v1/journeys/${key}/report`)
        .set({ Authorization: `Bearer ${read}` })
        .expect(200)
    ).body;
  const step = async (key: string, id: string) => (await report(key)).steps.find((s: { id: string }) => s.id === id);

  async function activeJourney(key: string, definition: Record<string, unknown>): Promise<void> {
    await http.post('/v1/journeys').set(admin).send({ key, name: key, definition }).expect(201);
    await http.post(`/v1/journeys/${key}/status`).set(admin).send({ status: 'active' }).expect(200);
  }

  it('refuses a bad channel field by field and keeps secrets out of reads', async () => {
    const bad = await http
      .put('/v1/channels/Bad Key')
      .set(admin)
      .send({ type: 'webhook', url: 'ftp://x', secrets: ['nope'] })
      .expect(400);
    expect(bad.body.details).toEqual([
      { field: 'key', problem: expect.any(String) },
      { field: 'url', problem: 'a webhook needs an http(s) URL' },
      { field: 'secrets[0]', problem: 'a webhook secret starts with whsec_' },
    ]);
    for (const subject of ['journeys.delivered', 'journeys.exposed'])
      expect((await http.put('/v1/channels/pushes').set(admin).send({ type: 'nats', subject }).expect(400)).body.details[0].field).toBe('subject');
    const listed = (
      await http
        .get('/v1/channels')
        .set({ Authorization: `Bearer ${read}` })
        .expect(200)
    ).body.channels;
    expect(listed.map((c: { key: string }) => c.key)).toEqual(['down', 'email', 'flaky', 'reminders']);
    expect(JSON.stringify(listed)).not.toContain(receiver.secrets.get('/email') as string);
    expect(listed[1]).toMatchObject({ capPerDay: 1, capPerWeek: 3, secretHints: [expect.stringMatching(/^whsec_.{4}…$/)] });
    await http
      .put('/v1/channels/x')
      .set({ Authorization: `Bearer ${read}` })
      .send({ type: 'nats', subject: 'journeys.x' })
      .expect(403);
  });

  it('the camera example: a segment entry sends one signed email with a unique code, redeemed at checkout; re-entry sends nothing; a capped customer is skipped', async () => {
    await activeJourney('camera-fans-10', {
      trigger: { type: 'segment_entered', segment: 'camera-fans-this-week' },
      steps: [{ id: 'email', type: 'send', channel: 'email', message: { template: 'camera-10', subject: '10 % off your next camera' }, offer: 'cameras-10', next: null }],
      reentry: { policy: 'never' },
    });
    // Another journey on the same channel, to fill a customer's daily cap before the camera email.
    await activeJourney('welcome', {
      trigger: { type: 'event', event: 'Signed Up', where: [{ property: 'plan', op: 'eq', value: 'free' }] },
      steps: [{ id: 'hello', type: 'send', channel: 'email', message: { template: 'welcome' } }],
    });

    const fan = randomUUID();
    const capped = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(capped, 'Signed Up', { plan: 'free' }));
    await publish(SUBJECTS.profilesActivity, track(randomUUID(), 'Signed Up', { plan: 'paid' })); // filtered out
    await waitFor(async () => receiver.on('/email').length === 1, { timeoutMs: 30_000, what: 'the welcome email' });

    await publish(SUBJECTS.segmentsEntered, membership(fan, 'camera-fans-this-week', 'entered'));
    await publish(SUBJECTS.segmentsEntered, membership(capped, 'camera-fans-this-week', 'entered'));
    await waitFor(async () => receiver.on('/email').length === 2 && (await step('camera-fans-10', 'email')).skippedByCap === 1, { timeoutMs: 30_000, what: 'the camera email' });

    const email = receiver.on('/email')[1];
    expect(email.verified).toBe(true);
    expect(email.headers['webhook-id']).toBe(email.payload.deliveryId);
    expect(email.payload).toMatchObject({
      journey: 'camera-fans-10',
      journeyVersion: 1,
      step: 'email',
      profileId: fan,
      channel: 'email',
      message: { template: 'camera-10' },
      offer: { key: 'cameras-10', name: '10 % off cameras', code: expect.stringMatching(/^CAM-000\d$/) },
    });
    // The code is held for this customer: another customer cannot use it (409), they can.
    const code = email.payload.offer?.code as string;
    const redeem = async (profileId: string) =>
      fetch(`${await service.app.getUrl()}/v1/redemptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${personalize}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ offerKey: 'cameras-10', profileId, code, orderId: `order-${profileId}`, orderAmount: { amount: 49_900, currency: 'EUR' } }),
      });
    expect((await redeem(randomUUID())).status).toBe(409);
    expect((await redeem(fan)).status).toBe(201);

    // Next week the fan views cameras again and re-enters the segment: the policy is never, nothing is sent.
    await publish(SUBJECTS.segmentsExited, membership(fan, 'camera-fans-this-week', 'exited'));
    await publish(SUBJECTS.segmentsEntered, membership(fan, 'camera-fans-this-week', 'entered'));
    const marker = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(marker, 'Signed Up', { plan: 'free' }));
    // The welcome email of a later message has gone out, so the re-entry before it has been handled.
    await waitFor(async () => receiver.on('/email').some((r) => r.payload.profileId === marker), { timeoutMs: 30_000, what: 'a later message handled' });
    expect(receiver.on('/email').filter((r) => r.payload.profileId === fan)).toHaveLength(1);

    const camera = await report('camera-fans-10');
    expect(camera).toMatchObject({ entered: 2, completed: 2, active: 0 });
    expect(camera.steps).toEqual([expect.objectContaining({ id: 'email', type: 'send', sent: 1, delivered: 1, failed: 0, skippedByCap: 1 })]);
    expect((await http.get('/v1/journeys/camera-fans-10/deliveries').query({ profileId: capped }).set(admin).expect(200)).body.deliveries).toEqual([]);
    const [skipped] = (
      await http
        .get('/v1/journeys/camera-fans-10/enrollments')
        .query({ profileId: capped })
        .set({ Authorization: `Bearer ${read}` })
        .expect(200)
    ).body.enrollments;
    expect(skipped).toMatchObject({ status: 'completed', endReason: 'reached the end', steps: [{ step: 'email', outcome: 'skipped', detail: 'frequency cap: 1 per day reached' }] });
    // The journey's segment is announced (segmentation refuses to delete it), and the matrix shows the journey in its row.
    await waitFor(async () => references.some((r) => r.ownerKind === 'journey' && r.ownerId === 'camera-fans-10'), { timeoutMs: 15_000, what: 'the segment references' });
    expect(references.find((r) => r.ownerId === 'camera-fans-10')).toMatchObject({ service: 'offers', segmentKeys: ['camera-fans-this-week'], revision: 1 });
    const matrix = (
      await http
        .get('/v1/personalization-matrix')
        .set({ Authorization: `Bearer ${read}` })
        .expect(200)
    ).body;
    const cell = matrix.cells.find((c: { segment: string | null; lifecycleStage: string }) => c.segment === 'camera-fans-this-week' && c.lifecycleStage === 'active');
    expect(cell.journeys).toEqual([
      { key: 'camera-fans-10', name: 'camera-fans-10' },
      { key: 'welcome', name: 'welcome' },
    ]);
    await waitFor(async () => delivered.some((d) => d.deliveryId === email.payload.deliveryId), { timeoutMs: 15_000, what: 'journeys.delivered' });
    expect(delivered.find((d) => d.deliveryId === email.payload.deliveryId)).toMatchObject({ outcome: 'delivered', attempts: 1, journey: 'camera-fans-10', profileId: fan, error: null });
  });

  it('a points-expiring reminder fires from the loyalty event', async () => {
    await activeJourney('points-expiring', {
      trigger: { type: 'loyalty', event: 'points_expiring' },
      steps: [{ id: 'remind', type: 'send', channel: 'reminders', message: { template: 'points-expiring' } }],
      reentry: { policy: 'after', days: 30 },
    });
    const profileId = randomUUID();
    const expiring: LoyaltyPointsExpiringV1 = { profileId, points: 300, expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() };
    await publish(SUBJECTS.loyaltyPointsExpiring, expiring);
    await waitFor(async () => receiver.on('/reminders').length === 1, { timeoutMs: 30_000, what: 'the reminder' });
    expect(receiver.on('/reminders')[0]).toMatchObject({ verified: true, payload: { journey: 'points-expiring', profileId, message: { template: 'points-expiring' } } });
  });

  it('retries 5xx and 429 with backoff under one webhook-id, records every attempt, and does not retry a 4xx refusal', async () => {
    await activeJourney('flaky-sends', {
      trigger: { type: 'event', event: 'Flaky', where: [] },
      steps: [{ id: 'ping', type: 'send', channel: 'flaky', message: {} }],
    });
    receiver.script.set('/flaky', [503, 429, 200, 400]);
    const retried = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(retried, 'Flaky'));
    await waitFor(async () => receiver.on('/flaky').length === 3, { timeoutMs: 30_000, what: 'three attempts' });
    const ids = new Set(receiver.on('/flaky').map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect(receiver.on('/flaky').every((r) => r.verified)).toBe(true);

    const refused = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(refused, 'Flaky'));
    await waitFor(async () => receiver.on('/flaky').length === 4, { timeoutMs: 30_000, what: 'the refused attempt' });
    const listOf = async (profileId: string) =>
      (
        await http
          .get('/v1/journeys/flaky-sends/deliveries')
          .query({ profileId })
          .set({ Authorization: `Bearer ${read}` })
          .expect(200)
      ).body.deliveries;
    await waitFor(async () => (await listOf(refused))[0]?.status === 'failed' && (await listOf(retried))[0]?.status === 'delivered', { timeoutMs: 15_000, what: 'both outcomes' });
    const first = (await listOf(retried))[0];
    expect(first.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([503, 429, 200]);
    // Full jitter: the second retry waits at most 2 s after the first (1 s, then 2 s ceilings).
    expect(Date.parse(first.attempts[2].at) - Date.parse(first.attempts[0].at)).toBeLessThan(3_000 + 1_000);
    const second = (await listOf(refused))[0];
    expect(second).toMatchObject({ status: 'failed', lastError: 'HTTP 400: nope' });
    expect(second.attempts).toHaveLength(1);
    await waitFor(async () => delivered.some((d) => d.profileId === refused), { timeoutMs: 15_000, what: 'journeys.delivered for the refusal' });
    expect(delivered.find((d) => d.profileId === refused)).toMatchObject({ outcome: 'failed', attempts: 1 });
    // Nothing more arrives for the refusal.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.on('/flaky')).toHaveLength(4);
  });

  it('waits, branches on events done since entering, exits on leaving the segment and on conversion, and holds sends in quiet hours', async () => {
    await activeJourney('nudge', {
      trigger: { type: 'segment_entered', segment: 'window-shoppers' },
      steps: [
        { id: 'pause', type: 'wait', duration: 'PT3S', next: 'looked' },
        { id: 'looked', type: 'branch', condition: { type: 'did_event', event: 'Product Viewed' }, then: 'nudge', else: null },
        { id: 'nudge', type: 'send', channel: 'reminders', message: { template: 'still-looking' } },
      ],
      exit: { leftSegment: true, convertedOn: 'Order Completed' },
    });
    const [viewer, idle, buyer, leaver]: string[] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    for (const p of [viewer, idle, buyer, leaver]) await publish(SUBJECTS.segmentsEntered, membership(p, 'window-shoppers', 'entered'));
    await waitFor(async () => (await report('nudge')).entered === 4, { timeoutMs: 20_000, what: 'four entries' });
    await publish(SUBJECTS.profilesActivity, track(viewer, 'Product Viewed', { category: 'cameras' }));
    await publish(SUBJECTS.profilesActivity, track(buyer, 'Product Viewed'));
    await publish(SUBJECTS.profilesActivity, track(buyer, 'Order Completed'));
    await publish(SUBJECTS.segmentsExited, membership(leaver, 'window-shoppers', 'exited'));
    await waitFor(async () => (await report('nudge')).active === 0, { timeoutMs: 30_000, what: 'every enrollment ended' });
    const nudge = await report('nudge');
    expect(nudge).toMatchObject({ entered: 4, converted: 1, exited: 1, completed: 2 });
    const byId = Object.fromEntries(nudge.steps.map((s: { id: string }) => [s.id, s]));
    expect(byId.pause.waited).toBe(4);
    expect(byId.looked.branched).toBe(2);
    expect(byId.nudge.sent).toBe(1);
    await waitFor(async () => receiver.on('/reminders').some((r) => r.payload.profileId === viewer), { timeoutMs: 15_000, what: 'the nudge' });
    expect(receiver.on('/reminders').filter((r) => [idle, buyer, leaver].includes(r.payload.profileId))).toEqual([]);

    // Quiet hours around now in the customer's zone: the send waits for their end.
    const zone = 'Asia/Tokyo';
    const local = new Date(Date.now() + 9 * 3_600_000);
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    await activeJourney('quiet', {
      trigger: { type: 'event', event: 'Quiet Please', where: [] },
      steps: [{ id: 'late', type: 'send', channel: 'reminders', message: {} }],
      quietHours: { start: hhmm(new Date(local.getTime() - 3_600_000)), end: hhmm(new Date(local.getTime() + 3_600_000)) },
    });
    const sleeper = randomUUID();
    await publish(SUBJECTS.profilesActivity, { ...track(sleeper, 'Identify'), type: 'identify', name: null, traits: { timezone: zone } });
    await publish(SUBJECTS.profilesActivity, track(sleeper, 'Quiet Please'));
    await waitFor(async () => (await report('quiet')).entered === 1, { timeoutMs: 20_000, what: 'the quiet entry' });
    await new Promise((r) => setTimeout(r, 1000));
    const quiet = await report('quiet');
    expect(quiet.steps[0]).toMatchObject({ id: 'late', sent: 0, atStepNow: 1 });
    expect(receiver.on('/reminders').some((r) => r.payload.profileId === sleeper)).toBe(false);
  });

  it('branches on segment membership (the read model) and on a redemption since entering', async () => {
    await activeJourney('branches', {
      trigger: { type: 'event', event: 'Branch Me', where: [] },
      steps: [
        { id: 'settle', type: 'wait', duration: 'PT2S', next: 'vip' },
        { id: 'vip', type: 'branch', condition: { type: 'in_segment', segment: 'vip' }, then: 'vip-mail', else: 'redeemed' },
        { id: 'vip-mail', type: 'send', channel: 'reminders', message: { template: 'vip' } },
        { id: 'redeemed', type: 'branch', condition: { type: 'redeemed_offer', offer: 'cameras-10' }, then: 'thanks', else: null },
        { id: 'thanks', type: 'send', channel: 'reminders', message: { template: 'thanks' } },
      ],
    });
    const [vip, buyer, neither] = [randomUUID(), randomUUID(), randomUUID()];
    const entered = membership(vip, 'vip', 'entered');
    await publish(SUBJECTS.segmentsEntered, entered);
    await waitFor(async () => (await http.get('/v1/offers/status').set(admin)).body.memberships.lastAppliedSeq >= entered.seq, { timeoutMs: 15_000, what: 'the membership applied' });
    for (const p of [vip, buyer, neither]) await publish(SUBJECTS.profilesActivity, track(p, 'Branch Me'));
    await waitFor(async () => (await report('branches')).entered === 3, { timeoutMs: 15_000, what: 'three entries' });
    // Redeemed after entering, while the wait runs: an available code of the pool.
    const redeemed = await fetch(`${await service.app.getUrl()}/v1/redemptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${personalize}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ offerKey: 'cameras-10', profileId: buyer, code: 'CAM-0004', orderId: `order-${buyer}`, orderAmount: { amount: 30_000, currency: 'EUR' } }),
    });
    expect(redeemed.status).toBe(201);
    await waitFor(async () => (await report('branches')).active === 0, { timeoutMs: 20_000, what: 'all three done' });
    const templates = (profileId: string) =>
      receiver
        .on('/reminders')
        .filter((r) => r.payload.profileId === profileId)
        .map((r) => r.payload.message.template);
    await waitFor(async () => templates(vip).length === 1 && templates(buyer).length === 1, { timeoutMs: 15_000, what: 'the two sends' });
    expect(templates(vip)).toEqual(['vip']);
    expect(templates(buyer)).toEqual(['thanks']);
    expect(templates(neither)).toEqual([]);
  });

  it('one enrollment whose step fails does not hold up the others: it is put off, longer each time, with its error', async () => {
    await activeJourney('zoned', {
      trigger: { type: 'event', event: 'Zoned', where: [] },
      steps: [{ id: 'night', type: 'wait', duration: null, untilTimeOfDay: '03:00', next: null }],
    });
    const [broken, fine] = [randomUUID(), randomUUID()];
    // A zone no clock knows, as a corrupted row would hold it: computing 03:00 there throws.
    const database = service.app.get<Database<Record<string, unknown>>>(DATABASE);
    await database.db.execute(sql`insert into offers.customer_time_zones (profile_id, time_zone) values (${broken}::uuid, 'Mars/Olympus_Mons')`);
    for (const p of [broken, fine]) await publish(SUBJECTS.profilesActivity, track(p, 'Zoned'));
    const list = async (profileId: string) => (await http.get('/v1/journeys/zoned/enrollments').query({ profileId }).set(admin).expect(200)).body.enrollments[0];
    await waitFor(async () => (await list(fine))?.steps.length === 1 && (await list(broken))?.failures >= 1, { timeoutMs: 20_000, what: 'one waiting, one put off' });
    expect((await list(fine)).steps).toEqual([expect.objectContaining({ step: 'night', outcome: 'waited' })]);
    const stuck = await list(broken);
    expect(stuck).toMatchObject({ status: 'active', nextStep: 'night', steps: [], lastError: expect.stringMatching(/time zone|Mars/i) });
    expect(Date.parse(stuck.dueAt)).toBeGreaterThan(Date.now() + 30_000);
  });

  it('gives a delivery up once its channel’s retry time has passed, with every attempt recorded', async () => {
    await activeJourney('to-a-down-receiver', {
      trigger: { type: 'event', event: 'Down', where: [] },
      steps: [{ id: 'ping', type: 'send', channel: 'down', message: {} }],
    });
    receiver.script.set(
      '/down',
      Array.from({ length: 50 }, () => 503),
    );
    const profileId = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(profileId, 'Down'));
    const listed = async () => (await http.get('/v1/journeys/to-a-down-receiver/deliveries').query({ profileId }).set(admin).expect(200)).body.deliveries[0];
    await waitFor(async () => (await listed())?.status === 'failed', { timeoutMs: 20_000, what: 'the delivery given up' });
    const failed = await listed();
    expect(failed.lastError).toMatch(/^gave up after \d+ attempts: HTTP 503: nope$/);
    expect(failed.attempts.length).toBe(receiver.on('/down').length);
    expect(failed.attempts.length).toBeGreaterThanOrEqual(2);
    // No attempt starts after the retry time (2 s from the send).
    expect(Date.parse(failed.attempts[failed.attempts.length - 1].at) - Date.parse(failed.createdAt)).toBeLessThanOrEqual(2_000 + 500);
    await waitFor(async () => delivered.some((d) => d.profileId === profileId), { timeoutMs: 15_000, what: 'journeys.delivered' });
    expect(delivered.find((d) => d.profileId === profileId)).toMatchObject({ outcome: 'failed', attempts: failed.attempts.length });
  });

  it('delivers on a NATS channel through JetStream, the delivery id as the message id', async () => {
    await http.put('/v1/channels/push').set(admin).send({ type: 'nats', subject: 'journeys.sends.push', capPerDay: 5 }).expect(200);
    await activeJourney('pushes', {
      trigger: { type: 'event', event: 'Pushed', where: [] },
      steps: [{ id: 'push', type: 'send', channel: 'push', message: { title: 'Hello' } }],
    });
    const sub = nc.subscribe(`${service.prefix}.journeys.sends.push`);
    const got: Array<{ id: string; data: JourneySendV1; msgId: string | undefined }> = [];
    void (async () => {
      for await (const msg of sub) {
        const envelope = codec.decode(msg.data) as { id: string; data: JourneySendV1 };
        got.push({ id: envelope.id, data: envelope.data, msgId: msg.headers?.get('Nats-Msg-Id') });
      }
    })();
    await nc.flush();
    const profileId = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(profileId, 'Pushed'));
    await waitFor(async () => got.length === 1, { timeoutMs: 20_000, what: 'the push on NATS' });
    expect(got[0].data).toMatchObject({ journey: 'pushes', profileId, channel: 'push', message: { title: 'Hello' } });
    expect(got[0].id).toBe(got[0].data.deliveryId);
    expect(got[0].msgId).toBe(got[0].data.deliveryId);
    await waitFor(async () => (await http.get('/v1/journeys/pushes/deliveries').set(admin).expect(200)).body.deliveries[0]?.status === 'delivered', { timeoutMs: 10_000, what: 'delivered' });
    sub.unsubscribe();
  });

  it('moves a merged-away customer’s runs and sends (which count toward caps) to the survivor, and erases a customer’s journey data', async () => {
    await activeJourney('lifecycle', {
      trigger: { type: 'event', event: 'Lifecycle', where: [] },
      steps: [{ id: 'mail', type: 'send', channel: 'reminders', message: {} }],
    });
    const [from, into, erased] = [randomUUID(), randomUUID(), randomUUID()];
    for (const p of [from, erased]) await publish(SUBJECTS.profilesActivity, track(p, 'Lifecycle'));
    const list = async (profileId: string) => (await http.get('/v1/journeys/lifecycle/enrollments').query({ profileId }).set(admin).expect(200)).body.enrollments;
    const sends = async (profileId: string) => (await http.get('/v1/journeys/lifecycle/deliveries').query({ profileId }).set(admin).expect(200)).body.deliveries;
    await waitFor(async () => (await sends(from)).length === 1 && (await sends(erased)).length === 1, { timeoutMs: 20_000, what: 'both sends' });

    await publish<ProfileMergedV1>(SUBJECTS.profilesMerged, { fromProfileId: from, intoProfileId: into, reason: 'identify', identifier: 'email:fan@example.com', mergedAt: new Date().toISOString() });
    await waitFor(async () => (await list(into)).length === 1, { timeoutMs: 20_000, what: 'the merge applied' });
    expect(await list(from)).toEqual([]);
    expect(await sends(into)).toHaveLength(1);
    // The survivor entered already (the merged-away customer's entry): the policy never keeps them out.
    await publish(SUBJECTS.profilesActivity, track(into, 'Lifecycle'));

    await publish<ProfileErasedV1>(SUBJECTS.profilesErased, { profileId: erased, mergedProfileIds: [], erasedAt: new Date().toISOString() });
    await waitFor(async () => (await list(erased)).length === 0 && (await sends(erased)).length === 0, { timeoutMs: 20_000, what: 'the erasure applied' });
    // A late event of the erased customer starts nothing.
    await publish(SUBJECTS.profilesActivity, track(erased, 'Lifecycle'));
    const marker = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(marker, 'Lifecycle'));
    await waitFor(async () => (await list(marker)).length === 1, { timeoutMs: 20_000, what: 'a later entry' });
    expect(await list(erased)).toEqual([]);
    expect(await list(into)).toHaveLength(1);
  });

  it('a new version runs for new entries while customers already in finish on theirs; archiving ends those still running', async () => {
    await activeJourney('versions', {
      trigger: { type: 'event', event: 'Versioned', where: [] },
      steps: [
        { id: 'hold', type: 'wait', duration: 'P1D', next: 'say' },
        { id: 'say', type: 'send', channel: 'reminders', message: { v: 1 } },
      ],
    });
    const early = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(early, 'Versioned'));
    await waitFor(async () => (await report('versions')).entered === 1, { timeoutMs: 20_000, what: 'the first entry' });
    await http
      .patch('/v1/journeys/versions')
      .set(admin)
      .send({ definition: { trigger: { type: 'event', event: 'Versioned', where: [] }, steps: [{ id: 'say-now', type: 'send', channel: 'reminders', message: { v: 2 } }] } })
      .expect(200);
    const late = randomUUID();
    await publish(SUBJECTS.profilesActivity, track(late, 'Versioned'));
    await waitFor(async () => receiver.on('/reminders').some((r) => r.payload.profileId === late), { timeoutMs: 20_000, what: 'the v2 send' });
    expect(receiver.on('/reminders').find((r) => r.payload.profileId === late)?.payload).toMatchObject({ journeyVersion: 2, message: { v: 2 } });
    const versions = await report('versions');
    expect(versions).toMatchObject({ entered: 2, active: 1 });
    expect(versions.steps.find((s: { id: string }) => s.id === 'say')).toMatchObject({ atStepNow: 1 });
    await http.post('/v1/journeys/versions/status').set(admin).send({ status: 'archived' }).expect(200);
    expect(await report('versions')).toMatchObject({ active: 0, exited: 1 });
  });
});
