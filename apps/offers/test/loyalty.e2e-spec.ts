import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import {
  SUBJECTS,
  type Envelope,
  type LoyaltyPointsChangedV1,
  type LoyaltyPointsExpiringV1,
  type LoyaltyTierChangedV1,
  type ProfileActivityV1,
  type ProfileErasedV1,
  type ProfileMergedV1,
  type SegmentMembershipChangedV1,
} from '@segmenta/contracts';
import { createEnvelope } from '@segmenta/messaging';
import { waitFor } from '@segmenta/infra';
import { DATABASE, availableTestDrivers, queryRows, type Database } from '@segmenta/persistence';
import { sql } from 'drizzle-orm';
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
  tier: { key: string; name: string; since: string; reviewAt: string } | null;
  nextTier: { key: string; pointsToGo: number | null } | null;
  expiringSoon: Array<{ points: number; expiresAt: string }>;
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
  const tierChanges: LoyaltyTierChangedV1[] = [];
  const expiring: LoyaltyPointsExpiringV1[] = [];

  beforeAll(async () => {
    service = await startServiceUnderTest(startOffers, {
      label: 'offloy',
      driver,
      // Due points are released every second here (every minute by default).
      env: { ADMIN_API_KEY: ADMIN, LOYALTY_JOBS_CRON: '* * * * * *', SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' },
    });
    http = request(service.app.getHttpServer());
    const issued = await issueTestApiKeys(service.app);
    keys = { personalize: issued.personalize, read: issued.read };
    nc = await connect({ servers: service.natsUrl });
    const sub = nc.subscribe(`${service.prefix}.${SUBJECTS.loyaltyPoints}`);
    void (async () => {
      for await (const msg of sub) published.push(pointsCodec.decode(msg.data).data);
    })();
    const tierSub = nc.subscribe(`${service.prefix}.${SUBJECTS.loyaltyTierChanged}`);
    void (async () => {
      for await (const msg of tierSub) tierChanges.push(codec.decode(msg.data).data as LoyaltyTierChangedV1);
    })();
    const expiringSub = nc.subscribe(`${service.prefix}.${SUBJECTS.loyaltyPointsExpiring}`);
    void (async () => {
      for await (const msg of expiringSub) expiring.push(codec.decode(msg.data).data as LoyaltyPointsExpiringV1);
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

  const entriesOf = async (profileId: string) => (await loyaltyOf(profileId, { limit: 500 })).history;
  const untilEntries = (profileId: string, n: number, what: string) => waitFor(async () => (await entriesOf(profileId)).length >= n, { timeoutMs: 15_000, what });

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
    expect(loyalty).toMatchObject({ available: 0, pending: 301, lifetimeEarned: 301, tier: null, nextTier: null, expiringSoon: [], nextCursor: null });
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
    await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'old-order', total: 80, currency: 'EUR' }));
    await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'new-order', total: 40, currency: 'EUR' }));
    await untilEntries(profileId, 2, 'both orders earned');
    expect(await loyaltyOf(profileId)).toMatchObject({ available: 0, pending: 120 });
    // Fourteen days later for the old order (its window's end moved into the past): the job releases it.
    const database = service.app.get<Database<Record<string, unknown>>>(DATABASE);
    await database.db.execute(sql`update offers.point_lots set available_at = now() - interval '1 second' where order_id = 'old-order'`);
    await waitFor(async () => (await entriesOf(profileId)).some((e) => e.kind === 'release'), { timeoutMs: 15_000, what: 'the old order released by the job' });
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
    // The same key with another body is refused as POST /v1/redemptions refuses it: 422, nothing spent.
    expect((await spend('/v1/loyalty/redemptions', { profileId, points: 20 }, key)).status).toBe(422);
    expect((await spend('/v1/loyalty/redemptions', { profileId, points: 50, orderId: 'o-8' }, key)).body.details).toEqual([
      { field: 'Idempotency-Key', problem: 'already used with a different body' },
    ]);
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
    // The check is not a formality: a lot that lost track of what was spent from it is reported, and so is a balance changed behind the ledger's back.
    const database = service.app.get<Database<Record<string, unknown>>>(DATABASE);
    await database.db.execute(sql`update offers.point_lots set remaining = remaining + 1 where profile_id = ${profileId}`);
    expect((await ledgerCheck()).mismatches).toEqual([expect.objectContaining({ profileId, available: 0, ledgerAvailable: 0, lotsAvailable: 1 })]);
    await database.db.execute(sql`update offers.point_lots set remaining = remaining - 1 where profile_id = ${profileId}`);
    await database.db.execute(sql`update offers.loyalty_accounts set available = available + 7 where profile_id = ${profileId}`);
    expect((await ledgerCheck()).mismatches).toEqual([expect.objectContaining({ profileId, available: 7, ledgerAvailable: 0, lotsAvailable: 0 })]);
    await database.db.execute(sql`update offers.loyalty_accounts set available = available - 7 where profile_id = ${profileId}`);
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

  it('claws back a refund: its share of pending points, the whole of the rest, and of spent points what the balance still holds', async () => {
    const profileId = randomUUID();
    await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'refund-me', revenue: 100, currency: 'EUR' }));
    await untilEntries(profileId, 1, 'the order earned');
    await publish(SUBJECTS.profilesActivity, { ...order(profileId, { order_id: 'refund-me', total: 25, currency: 'EUR' }), name: 'Order Refunded' });
    await untilEntries(profileId, 2, 'the partial refund');
    expect(await loyaltyOf(profileId)).toMatchObject({ pending: 75, lifetimeEarned: 75 });
    const whole = { ...order(profileId, { order_id: 'refund-me' }), name: 'Order Refunded' };
    await publish(SUBJECTS.profilesActivity, whole);
    await publish(SUBJECTS.profilesActivity, whole); // redelivered: once
    await untilEntries(profileId, 3, 'the whole refund');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await loyaltyOf(profileId)).toMatchObject({ available: 0, pending: 0, lifetimeEarned: 0, pendingPoints: [] });
    expect((await entriesOf(profileId)).map((e) => [e.kind, e.pendingDelta])).toEqual([
      ['clawback', -75],
      ['clawback', -25],
      ['earn', 100],
    ]);

    // Released and partly spent: the unspent rest of the order goes, the spent part only as far as the balance holds.
    const spender = randomUUID();
    await publish(SUBJECTS.profilesActivity, order(spender, { order_id: 'spent-order', revenue: 200, currency: 'EUR' }, new Date(Date.now() - 20 * DAY_MS)));
    await untilEntries(spender, 1, 'the old order earned');
    expect((await spend('/v1/loyalty/redemptions', { profileId: spender, points: 150 })).status).toBe(201);
    await publish(SUBJECTS.profilesActivity, { ...order(spender, { order_id: 'spent-order' }), name: 'Order Refunded' });
    await untilEntries(spender, 3, 'the refund of a spent order');
    const [clawback] = await entriesOf(spender);
    expect(clawback).toMatchObject({ kind: 'clawback', availableDelta: -50, pendingDelta: 0, details: expect.objectContaining({ points: 200, fromUnspent: 50, fromBalance: 0, unrecovered: 150 }) });
    expect(await loyaltyOf(spender)).toMatchObject({ available: 0, pending: 0, lifetimeEarned: 0 });
    expect(await ledgerCheck()).toMatchObject({ ok: true });
  });

  it('upgrades a tier at once, keeps it when the points go, and lowers it only at the review after the grace period', async () => {
    await http.put('/v1/tiers/silver').set(admin).send({ name: 'Silver', rank: 1, minPoints: 200 }).expect(200);
    await http
      .put('/v1/tiers/gold')
      .set(admin)
      .send({ name: 'Gold', rank: 2, minPoints: 500, minSpend: { amount: 10_000, currency: 'EUR' } })
      .expect(200);
    expect((await http.put('/v1/tiers/platinum').set(admin).send({ name: 'Platinum', rank: 2, minPoints: 900 }).expect(409)).body.details).toEqual([
      { field: 'rank', problem: 'is held by another tier' },
    ]);
    expect((await http.put('/v1/tiers/none').set(admin).send({ name: 'None', rank: 5 }).expect(400)).body.details).toEqual([expect.objectContaining({ field: 'minPoints' })]);
    expect(
      (
        await http
          .get('/v1/tiers')
          .set({ Authorization: `Bearer ${keys.read}` })
          .expect(200)
      ).body.tiers.map((t: { key: string }) => t.key),
    ).toEqual(['silver', 'gold']);
    expect(
      (
        await http
          .get('/v1/tiers/gold')
          .set({ Authorization: `Bearer ${keys.read}` })
          .expect(200)
      ).body,
    ).toMatchObject({ key: 'gold', rank: 2, minPoints: 500, minSpend: { amount: 10_000, currency: 'EUR' } });
    await http.get('/v1/tiers/platinum').set(admin).expect(404);

    // An offer for Gold members only.
    await http
      .post('/v1/offers')
      .set(admin)
      .send({
        key: 'gold-lounge',
        name: 'Gold lounge',
        description: 'For Gold members',
        reward: { type: 'bonus_points', points: 100 },
        placements: ['home_banner'],
        startsAt: '2020-01-01T00:00',
        endsAt: null,
        timeZone: 'UTC',
        eligibility: { tiers: ['gold'] },
      })
      .expect(201);
    await http.post('/v1/offers/gold-lounge/status').set(admin).send({ status: 'active' }).expect(200);
    const offersOf = async (profileId: string) =>
      (
        (
          await http
            .get(`/v1/customers/${profileId}/offers`)
            .set({ Authorization: `Bearer ${keys.personalize}` })
            .expect(200)
        ).body.offers as Array<{ key: string; reasons: string[] }>
      ).filter((o) => o.key === 'gold-lounge');

    const profileId = randomUUID();
    await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'tier-1', revenue: 300, currency: 'EUR' }));
    await waitFor(async () => (await loyaltyOf(profileId)).tier?.key === 'silver', { timeoutMs: 15_000, what: 'silver' });
    expect((await loyaltyOf(profileId)).nextTier).toMatchObject({ key: 'gold', pointsToGo: 200 });
    expect(await offersOf(profileId)).toEqual([]);
    const notYet = await spend('/v1/redemptions', { offerKey: 'gold-lounge', profileId });
    expect(notYet.status).toBe(409);
    expect(notYet.body.details).toEqual([{ field: 'profileId', problem: 'not eligible: not in loyalty tier gold' }]);
    await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'tier-2', revenue: 300, currency: 'EUR' }));
    await waitFor(async () => (await loyaltyOf(profileId)).tier?.key === 'gold', { timeoutMs: 15_000, what: 'gold' });
    // The upgrade counts at once: the Gold offer is served, with the tier as its reason, and redeemable.
    expect(await offersOf(profileId)).toEqual([expect.objectContaining({ key: 'gold-lounge', reasons: ['tier Gold'] })]);
    expect((await spend('/v1/redemptions', { offerKey: 'gold-lounge', profileId })).status).toBe(201);
    await publish(SUBJECTS.profilesActivity, { ...order(profileId, { order_id: 'tier-2' }), name: 'Order Refunded' });
    await untilEntries(profileId, 3, 'the refund');
    // 300 points in the window qualify for silver only, but gold holds until the review.
    expect((await loyaltyOf(profileId)).tier?.key).toBe('gold');

    const database = service.app.get<Database<Record<string, unknown>>>(DATABASE);
    await database.db.execute(sql`update offers.loyalty_accounts set tier_review_at = now() - interval '29 days' where profile_id = ${profileId}`);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await loyaltyOf(profileId)).tier?.key).toBe('gold'); // inside the 30 days of grace
    await database.db.execute(sql`update offers.loyalty_accounts set tier_review_at = now() - interval '31 days' where profile_id = ${profileId}`);
    await waitFor(async () => (await loyaltyOf(profileId)).tier?.key === 'silver', { timeoutMs: 15_000, what: 'the review lowered the tier' });
    // loyalty.tier_changed leaves through the outbox after the review's commit: it may reach us a moment after the read.
    await waitFor(async () => tierChanges.filter((c) => c.profileId === profileId).length >= 3, { timeoutMs: 15_000, what: 'loyalty.tier_changed of the downgrade' });
    expect(tierChanges.filter((c) => c.profileId === profileId).map((c) => [c.from, c.to, c.direction])).toEqual([
      [null, 'silver', 'upgrade'],
      ['silver', 'gold', 'upgrade'],
      ['gold', 'silver', 'downgrade'],
    ]);
    // Points given by hand count towards tiers too, at once.
    const gifted = randomUUID();
    expect((await spend('/v1/loyalty/adjustments', { profileId: gifted, points: 600, reason: 'Welcome to Gold' }, randomUUID(), `Bearer ${ADMIN}`)).status).toBe(201);
    expect((await loyaltyOf(gifted)).tier?.key).toBe('gold');
    await http.delete('/v1/tiers/gold').set(admin).expect(204);
    await http.delete('/v1/tiers/silver').set(admin).expect(204);
  });

  it('expires points oldest first after the configured period, announces them ahead, and spends the oldest first', async () => {
    await http.put('/v1/loyalty/program').set(admin).send({ returnWindowDays: 14, capPerOrder: null, capPerDay: null, expireAfterDays: 30, expiringNoticeDays: 12 }).expect(200);
    try {
      const profileId = randomUUID();
      const daysAgo = (d: number) => new Date(Date.now() - d * DAY_MS);
      await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'exp-40', revenue: 50, currency: 'EUR' }, daysAgo(40)));
      await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'exp-25', revenue: 100, currency: 'EUR' }, daysAgo(25)));
      await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'exp-20', revenue: 100, currency: 'EUR' }, daysAgo(20)));
      await untilEntries(profileId, 4, 'three orders and an expiry');
      const loyalty = await loyaltyOf(profileId);
      expect(loyalty.available).toBe(200);
      expect(loyalty.history.filter((e) => e.kind === 'expire')).toEqual([expect.objectContaining({ availableDelta: -50, cause: expect.stringMatching(/^expire:/) })]);
      // Both lots inside the 12 days of notice are announced, once each.
      await waitFor(() => expiring.filter((e) => e.profileId === profileId).length === 2, { timeoutMs: 15_000, what: 'loyalty.points_expiring' });
      expect(expiring.filter((e) => e.profileId === profileId).map((e) => e.points)).toEqual([100, 100]);

      expect((await spend('/v1/loyalty/redemptions', { profileId, points: 120 })).status).toBe(201);
      const after = await loyaltyOf(profileId);
      expect(after.available).toBe(80);
      // The order of 25 days ago went first: what is left expires with the order of 20 days ago.
      expect(after.expiringSoon).toEqual([{ points: 80, expiresAt: expect.any(String) }]);
      expect(new Date(after.expiringSoon[0].expiresAt).getTime()).toBeGreaterThan(Date.now() + 9 * DAY_MS);
      expect(await ledgerCheck()).toMatchObject({ ok: true });
    } finally {
      await http.put('/v1/loyalty/program').set(admin).send({ returnWindowDays: 14, capPerOrder: null, capPerDay: null }).expect(200);
    }
  });
  it('merges two customers’ points into the survivor, and erases a customer’s loyalty and what offers published about them', async () => {
    const survivor = randomUUID();
    const merged = randomUUID();
    await publish(SUBJECTS.profilesActivity, order(survivor, { order_id: 'merge-a', revenue: 40, currency: 'EUR' }, new Date(Date.now() - 20 * DAY_MS)));
    await publish(SUBJECTS.profilesActivity, order(merged, { order_id: 'merge-b', revenue: 60, currency: 'EUR' }, new Date(Date.now() - 20 * DAY_MS)));
    await publish(SUBJECTS.profilesActivity, order(merged, { order_id: 'merge-c', revenue: 25, currency: 'EUR' }));
    await untilEntries(survivor, 1, 'the survivor earned');
    await untilEntries(merged, 2, 'the merged customer earned');
    const mergedAt = new Date().toISOString();
    await publish<ProfileMergedV1>(SUBJECTS.profilesMerged, { fromProfileId: merged, intoProfileId: survivor, reason: 'identify', identifier: 'email:x@example.com', mergedAt });
    await waitFor(async () => (await loyaltyOf(merged)).history.length === 0, { timeoutMs: 15_000, what: 'the merge applied' });
    const together = await loyaltyOf(survivor);
    expect(together).toMatchObject({ available: 100, pending: 25, lifetimeEarned: 125 });
    expect(together.history[0]).toMatchObject({ kind: 'adjust', availableDelta: 0, pendingDelta: 0, reason: `profiles merged: ${merged} into ${survivor}` });
    expect(
      together.history
        .filter((e) => e.kind === 'earn')
        .map((e) => e.orderId)
        .sort(),
    ).toEqual(['merge-a', 'merge-b', 'merge-c']);
    expect((await spend('/v1/loyalty/redemptions', { profileId: survivor, points: 100 })).status).toBe(201);
    expect(await ledgerCheck()).toMatchObject({ ok: true });

    const database = service.app.get<Database<Record<string, unknown>>>(DATABASE);
    const count = async (query: ReturnType<typeof sql>) => (await queryRows<{ n: number }>(database.db, query))[0].n;
    const located = () => count(sql`select count(*)::int as n from offers.stream_locations where partition_key = ${survivor}`);
    await waitFor(async () => (await located()) > 0, { timeoutMs: 15_000, what: "the survivor's loyalty.points relayed" });
    await publish<ProfileErasedV1>(SUBJECTS.profilesErased, { profileId: survivor, mergedProfileIds: [merged], erasedAt: new Date().toISOString() });
    await waitFor(async () => (await loyaltyOf(survivor)).history.length === 0, { timeoutMs: 15_000, what: 'the erasure applied' });
    expect(await loyaltyOf(survivor)).toMatchObject({ available: 0, pending: 0, lifetimeEarned: 0, pendingPoints: [] });
    // Their loyalty.points messages are deleted from the OFFERS stream (ADR 14): no location left to erase.
    await waitFor(async () => (await located()) === 0 && (await count(sql`select count(*)::int as n from offers.stream_erasures`)) === 0, {
      timeoutMs: 15_000,
      what: 'the stream messages erased',
    });
    expect(await ledgerCheck()).toMatchObject({ ok: true });
  });
  it('earns bonuses: per review, once for signing up, on the first order, and on the birthday once a year', async () => {
    const rules = [
      { key: 'review-bonus', name: 'A review earns 50', rule: { type: 'event_bonus', event: 'Product Reviewed', points: 50 } },
      { key: 'signup-bonus', name: 'Signing up earns 200 once', rule: { type: 'event_bonus', event: 'Signed Up', points: 200, oncePerCustomer: true } },
      { key: 'first-order-bonus', name: 'The first order earns 100 more', rule: { type: 'first_order_bonus', points: 100 } },
      { key: 'birthday-bonus', name: 'Happy birthday: 300', rule: { type: 'birthday_bonus', points: 300, trait: 'birthday' } },
    ];
    for (const rule of rules) await http.post('/v1/earn-rules').set(admin).send(rule).expect(201);
    expect(
      (
        await http
          .post('/v1/earn-rules')
          .set(admin)
          .send({ key: 'no-points', name: 'x', rule: { type: 'first_order_bonus' } })
          .expect(400)
      ).body.details,
    ).toEqual([expect.objectContaining({ field: 'rule.points' })]);
    try {
      const profileId = randomUUID();
      const track = (name: string, properties: Record<string, unknown> = {}) => ({ ...order(profileId, properties), name });
      await publish(SUBJECTS.profilesActivity, track('Product Reviewed'));
      await publish(SUBJECTS.profilesActivity, track('Product Reviewed'));
      await publish(SUBJECTS.profilesActivity, track('Signed Up'));
      await publish(SUBJECTS.profilesActivity, track('Signed Up'));
      await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'bonus-1', revenue: 10, currency: 'EUR' }));
      await publish(SUBJECTS.profilesActivity, order(profileId, { order_id: 'bonus-2', revenue: 10, currency: 'EUR' }));
      const today = new Date().toISOString().slice(5, 10);
      await publish(SUBJECTS.profilesActivity, { ...order(profileId, {}), type: 'identify', name: null, traits: { birthday: `1990-${today}` } });
      await untilEntries(profileId, 7, 'two reviews, one signup, two orders, the first order bonus and the birthday');
      await new Promise((resolve) => setTimeout(resolve, 2500)); // more runs of the jobs: the birthday is paid once
      const loyalty = await loyaltyOf(profileId);
      expect(
        loyalty.history
          .filter((e) => e.kind === 'earn')
          .map((e) => [e.availableDelta + e.pendingDelta, e.cause.replace(/:.*$/, '')])
          .sort(),
      ).toEqual(
        [
          [10, 'order'],
          [10, 'order'],
          [100, 'first-order'],
          [200, 'bonus'],
          [300, 'birthday'],
          [50, 'bonus'],
          [50, 'bonus'],
        ].sort(),
      );
      // Bonuses are available at once; the orders' points wait for their return window.
      expect(loyalty).toMatchObject({ available: 700, pending: 20 });
      expect(await ledgerCheck()).toMatchObject({ ok: true });
    } finally {
      for (const rule of rules) await http.delete(`/v1/earn-rules/${rule.key}`).set(admin).expect(204);
    }
  });
  it("credits an offer's bonus points at redemption and doubles an order's points for a points multiplier, and a cancel takes them back", async () => {
    const activate = async (key: string, reward: Record<string, unknown>) => {
      await http
        .post('/v1/offers')
        .set(admin)
        .send({ key, name: key, description: 'Points', reward, placements: ['checkout'], startsAt: '2020-01-01T00:00', endsAt: null, timeZone: 'UTC' })
        .expect(201);
      await http.post(`/v1/offers/${key}/status`).set(admin).send({ status: 'active' }).expect(200);
    };
    await activate('bonus-200', { type: 'bonus_points', points: 200 });
    await activate('double-points', { type: 'points_multiplier', multiplier: 2 });
    const cancel = (id: unknown) =>
      http
        .post(`/v1/redemptions/${String(id)}/cancel`)
        .set({ Authorization: `Bearer ${keys.personalize}` })
        .expect(200);

    const bonus = randomUUID();
    const redeemed = await spend('/v1/redemptions', { offerKey: 'bonus-200', profileId: bonus });
    expect(redeemed.status).toBe(201);
    expect(await loyaltyOf(bonus)).toMatchObject({ available: 200, pending: 0 });
    await cancel(redeemed.body.id);
    await cancel(redeemed.body.id); // once
    expect(await loyaltyOf(bonus)).toMatchObject({ available: 0, pending: 0, lifetimeEarned: 0 });

    // The order earned first, then the multiplier: the extra points now, pending like the order's.
    const first = randomUUID();
    await publish(SUBJECTS.profilesActivity, order(first, { order_id: 'double-x', revenue: 80, currency: 'EUR' }));
    await untilEntries(first, 1, 'the order earned');
    expect((await spend('/v1/redemptions', { offerKey: 'double-points', profileId: first, orderId: 'double-x' })).status).toBe(201);
    expect(await loyaltyOf(first)).toMatchObject({ available: 0, pending: 160 });

    // The multiplier first, then the order: the extra points when it earns; a cancel takes them back.
    const later = randomUUID();
    const multiplied = await spend('/v1/redemptions', { offerKey: 'double-points', profileId: later, orderId: 'double-y' });
    expect(multiplied.status).toBe(201);
    await publish(SUBJECTS.profilesActivity, order(later, { order_id: 'double-y', revenue: 50, currency: 'EUR' }));
    await untilEntries(later, 2, 'the order and its extra points earned');
    expect(await loyaltyOf(later)).toMatchObject({ available: 0, pending: 100 });
    await cancel(multiplied.body.id);
    const after = await loyaltyOf(later);
    expect(after).toMatchObject({ available: 0, pending: 50 });
    expect(after.history[0]).toMatchObject({ kind: 'clawback', pendingDelta: -50, cause: `cancel:${String(multiplied.body.id)}` });
    expect(await ledgerCheck()).toMatchObject({ ok: true });
  });
});
