import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { SUBJECTS, type Envelope, type LoyaltyPointsChangedV1, type ProfileActivityV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { createEnvelope } from '@segmenta/messaging';
import { waitFor } from '@segmenta/infra';
import { availableTestDrivers } from '@segmenta/persistence';
import { startOffers } from '../src/start';

/**
 * Loyalty (issue 19) against real NATS and PostgreSQL (and PGlite): orders from profiles.activity
 * earn through the earn rules into pending points, once per order; due points are released; spends
 * never overspend, also 100 at once; adjustments need a reason; the ledger check holds throughout.
 */
jest.setTimeout(120_000);

const ADMIN = 'offers-loyalty-e2e-admin-key-0123';
const DAY_MS = 86_400_000;
const codec = JSONCodec<Envelope>();
const pointsCodec = JSONCodec<Envelope<LoyaltyPointsChangedV1>>();

interface Loyalty {
  available: number;
  pending: number;
  lifetimeEarned: number;
  pendingPoints: Array<{ points: number; availableAt: string }>;
  history: Array<{
    entryId: number;
    kind: string;
    availableDelta: number;
    pendingDelta: number;
    cause: string;
    orderId: string | null;
    reason: string | null;
    details: Record<string, unknown> | null;
  }>;
  nextCursor: string | null;
}

describe.each(availableTestDrivers())('loyalty (%s)', (driver) => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  let keys: { personalize: string; read: string };
  let seq = 0;
  const admin = { Authorization: `Bearer ${ADMIN}` };
  const published: LoyaltyPointsChangedV1[] = [];

  beforeAll(async () => {
    service = await startServiceUnderTest(startOffers, {
      label: 'offloy',
      driver,
      // Due points are released every second here (every minute by default).
      env: { ADMIN_API_KEY: ADMIN, LOYALTY_RELEASE_CRON: '* * * * * *', SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' },
    });
    http = request(service.app.getHttpServer());
    const issued = await issueTestApiKeys(service.app);
    keys = { personalize: issued.personalize, read: issued.read };
    nc = await connect({ servers: service.natsUrl });
    const sub = nc.subscribe(`${service.prefix}.${SUBJECTS.loyaltyPoints}`);
    void (async () => {
      for await (const msg of sub) published.push(pointsCodec.decode(msg.data).data);
    })();
    await nc.flush();
    await http
      .post('/v1/earn-rules')
      .set(admin)
      .send({ key: 'euro-base', name: 'A point per euro', rule: { type: 'base', currency: 'EUR', pointsPerUnit: 1 } })
      .expect(201);
    await http
      .post('/v1/earn-rules')
      .set(admin)
      .send({ key: 'camera-fans-double', name: 'Camera fans earn double', rule: { type: 'segment_multiplier', segment: 'camera-fans', multiplier: 2 } })
      .expect(201);
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  const loyaltyOf = async (profileId: string, query: Record<string, unknown> = {}): Promise<Loyalty> =>
    (
      await http
        .get(`/v1/customers/${profileId}/loyalty`)
        .query(query)
        .set({ Authorization: `Bearer ${keys.read}` })
        .expect(200)
    ).body;

  async function publish<T>(subject: string, data: T, id: string = randomUUID()): Promise<void> {
    await nc.jetstream().publish(`${service.prefix}.${subject}`, codec.encode(createEnvelope(subject, data, { id })));
  }

  const order = (profileId: string, properties: Record<string, unknown>, occurredAt = new Date(), eventId = randomUUID()): ProfileActivityV1 => ({
    profileId,
    eventId,
    type: 'track',
    name: 'Order Completed',
    properties,
    traits: {},
    occurredAt: occurredAt.toISOString(),
  });

  async function spend(path: string, body: Record<string, unknown>, idempotencyKey: string | null = randomUUID(), authorization = `Bearer ${keys.personalize}`) {
    const headers: Record<string, string> = { authorization, 'content-type': 'application/json' };
    if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
    const response = await fetch(`${await service.app.getUrl()}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown> & { details?: Array<{ field: string; problem: string }> },
      replayed: response.headers.get('idempotent-replayed') === 'true',
    };
  }

  const ledgerCheck = async () => (await http.get('/v1/loyalty/ledger-check').set(admin).expect(200)).body as { ok: boolean; accounts: number; mismatches: unknown[] };

  it('validates earn rules field by field and keeps them by key', async () => {
    const bad = await http
      .post('/v1/earn-rules')
      .set(admin)
      .send({ key: 'no-currency', name: 'x', rule: { type: 'base', pointsPerUnit: 1 } })
      .expect(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ field: 'rule.currency' })]);
    const low = await http
      .post('/v1/earn-rules')
      .set(admin)
      .send({ key: 'low', name: 'x', rule: { type: 'category_multiplier', category: 'cables', multiplier: 0.5 } })
      .expect(400);
    expect(low.body.details).toEqual([expect.objectContaining({ field: 'rule.multiplier' })]);
    await http
      .post('/v1/earn-rules')
      .set(admin)
      .send({ key: 'euro-base', name: 'again', rule: { type: 'base', currency: 'EUR', pointsPerUnit: 2 } })
      .expect(409);
    const listed = (
      await http
        .get('/v1/earn-rules')
        .set({ Authorization: `Bearer ${keys.read}` })
        .expect(200)
    ).body.earnRules;
    expect(listed.map((r: { key: string }) => r.key)).toEqual(['camera-fans-double', 'euro-base']);
    await http
      .post('/v1/earn-rules')
      .set({ Authorization: `Bearer ${keys.read}` })
      .send({ key: 'x', name: 'x', rule: { type: 'base', currency: 'EUR', pointsPerUnit: 1 } })
      .expect(403);
  });

  it('earns an order into pending points, with the segment multiplier, once however often the order arrives, and announces loyalty.points', async () => {
    const profileId = randomUUID();
    const entered: SegmentMembershipChangedV1 = { seq: ++seq, segmentId: randomUUID(), segmentKey: 'camera-fans', segmentVersion: 1, profileId, change: 'entered', at: new Date().toISOString() };
    await publish(SUBJECTS.segmentsEntered, entered);
    await waitFor(async () => (await http.get('/v1/offers/status').set(admin)).body.memberships.lastAppliedSeq >= entered.seq, { timeoutMs: 15_000, what: 'the membership applied' });

    const at = new Date();
    const first = order(profileId, { order_id: 'o-1042', revenue: 150.75, currency: 'EUR' }, at);
    await publish(SUBJECTS.profilesActivity, first);
    // The same order again: redelivered with the same envelope id, and sent again as a new event.
    await publish(SUBJECTS.profilesActivity, first, `again-${first.eventId}`);
    await publish(SUBJECTS.profilesActivity, { ...first, eventId: randomUUID() });
    // Activity that is not an order earns nothing.
    await publish(SUBJECTS.profilesActivity, { ...first, name: 'Product Viewed', eventId: randomUUID() });
    await waitFor(async () => (await loyaltyOf(profileId)).pending > 0, { timeoutMs: 15_000, what: 'the order earned' });
    await waitFor(async () => published.some((p) => p.profileId === profileId), { timeoutMs: 15_000, what: 'loyalty.points' });
    await new Promise((resolve) => setTimeout(resolve, 500));

    const loyalty = await loyaltyOf(profileId);
    // floor(150.75 × 1 point per euro × 2 for camera fans) = 301.
    expect(loyalty).toMatchObject({ available: 0, pending: 301, lifetimeEarned: 301, nextCursor: null });
    expect(loyalty.pendingPoints).toEqual([{ points: 301, availableAt: new Date(at.getTime() + 14 * DAY_MS).toISOString() }]);
    expect(loyalty.history).toEqual([
      expect.objectContaining({
        kind: 'earn',
        availableDelta: 0,
        pendingDelta: 301,
        cause: 'order:o-1042',
        orderId: 'o-1042',
        details: expect.objectContaining({ segment: 'camera-fans', segmentMultiplier: 2, basePoints: 150.75 }),
      }),
    ]);
    expect(published.filter((p) => p.profileId === profileId)).toEqual([expect.objectContaining({ kind: 'earn', pendingDelta: 301, available: 0, pending: 301, cause: 'order:o-1042' })]);
    expect(await ledgerCheck()).toMatchObject({ ok: true, mismatches: [] });
  });

  it('releases points whose return window has passed, and spends only what is available', async () => {
    const profileId = randomUUID();
    await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'old-order', total: 80, currency: 'EUR' }, new Date(Date.now() - 20 * DAY_MS)));
    await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'new-order', total: 40, currency: 'EUR' }));
    await waitFor(async () => (await loyaltyOf(profileId)).history.length === 3, { timeoutMs: 15_000, what: 'both orders earned and the old one released' });
    const loyalty = await loyaltyOf(profileId);
    expect(loyalty).toMatchObject({ available: 80, pending: 40, lifetimeEarned: 120 });
    expect(loyalty.history.map((e) => [e.kind, e.availableDelta, e.pendingDelta])).toEqual(expect.arrayContaining([['release', 80, -80]]));

    const tooMuch = await spend('/v1/loyalty/redemptions', { profileId, points: 100 });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.details).toEqual([{ field: 'points', problem: 'exceeds the available balance (80; 40 more are pending)' }]);
    const key = randomUUID();
    const spent = await spend('/v1/loyalty/redemptions', { profileId, points: 50, orderId: 'o-7' }, key);
    expect(spent).toMatchObject({ status: 201, replayed: false, body: { kind: 'redeem', availableDelta: -50, available: 30, pending: 40, orderId: 'o-7' } });
    const again = await spend('/v1/loyalty/redemptions', { profileId, points: 50, orderId: 'o-7' }, key);
    expect(again).toMatchObject({ status: 201, replayed: true, body: { entryId: spent.body.entryId, available: 30 } });
    expect((await spend('/v1/loyalty/redemptions', { profileId, points: 20 }, key)).status).toBe(409);
    expect((await spend('/v1/loyalty/redemptions', { profileId, points: 20 }, null)).body.details).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
    expect((await loyaltyOf(profileId)).available).toBe(30);
  });

  it('lets 100 parallel spends against a balance that covers 10 take exactly 10, and keeps every balance equal to its ledger', async () => {
    const profileId = randomUUID();
    const adminAuth = `Bearer ${ADMIN}`;
    expect((await spend('/v1/loyalty/adjustments', { profileId, points: 1000 }, randomUUID(), adminAuth)).body.details).toEqual([expect.objectContaining({ field: 'reason' })]);
    const credited = await spend('/v1/loyalty/adjustments', { profileId, points: 1000, reason: 'Welcome gift' }, randomUUID(), adminAuth);
    expect(credited).toMatchObject({ status: 201, body: { kind: 'adjust', availableDelta: 1000, available: 1000, reason: 'Welcome gift' } });

    const answers = await Promise.all(Array.from({ length: 100 }, () => spend('/v1/loyalty/redemptions', { profileId, points: 100 })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(90);
    const loyalty = await loyaltyOf(profileId, { limit: 5 });
    expect(loyalty.available).toBe(0);
    expect(loyalty.history).toHaveLength(5);
    // The cursor pages through the 11 entries, newest first.
    const rest = await loyaltyOf(profileId, { limit: 10, cursor: loyalty.nextCursor });
    expect(rest.history).toHaveLength(6);
    expect(rest.nextCursor).toBeNull();
    expect(rest.history[5]).toMatchObject({ kind: 'adjust', availableDelta: 1000 });

    expect((await spend('/v1/loyalty/adjustments', { profileId, points: -5, reason: 'Correction' }, randomUUID(), adminAuth)).status).toBe(409);
    expect((await spend('/v1/loyalty/adjustments', { profileId, points: 5, reason: 'x' }, randomUUID())).status).toBe(403);
    const check = await ledgerCheck();
    expect(check).toMatchObject({ ok: true, mismatches: [] });
    expect(check.accounts).toBeGreaterThanOrEqual(3);
  });

  it('answers an unknown customer with an empty account and refuses a malformed id or cursor', async () => {
    expect(await loyaltyOf(randomUUID())).toMatchObject({ available: 0, pending: 0, lifetimeEarned: 0, tier: null, history: [], nextCursor: null });
    await http.get('/v1/customers/not-a-uuid/loyalty').set(admin).expect(400);
    await http.get(`/v1/customers/${randomUUID()}/loyalty`).query({ cursor: 'abc' }).set(admin).expect(400);
  });
});
