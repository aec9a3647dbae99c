import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { SUBJECTS, type Envelope, type OfferBudgetAlertV1, type OfferRedeemedV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { createEnvelope } from '@segmenta/messaging';
import { waitFor } from '@segmenta/infra';
import { availableTestDrivers } from '@segmenta/persistence';
import { startOffers } from '../src/start';

/**
 * Redemptions against real NATS and PostgreSQL (and PGlite, where concurrency is serial but every
 * rule must hold the same): the checks, idempotency, cancel, alerts on NATS and the race-free numbers.
 */
jest.setTimeout(120_000);

const ADMIN = 'offers-e2e-admin-key-0123456789';
const redeemedCodec = JSONCodec<Envelope<OfferRedeemedV1>>();
const alertCodec = JSONCodec<Envelope<OfferBudgetAlertV1>>();

const offerBody = (key: string, overrides: Record<string, unknown> = {}) => ({
  key,
  name: key,
  description: 'Redeemable',
  reward: { type: 'percent_off', percent: 10 },
  placements: ['checkout'],
  startsAt: '2020-01-01T00:00',
  endsAt: null,
  timeZone: 'Europe/Berlin',
  coupons: { type: 'none' },
  ...overrides,
});

interface Answer {
  status: number;
  body: Record<string, unknown> & { details?: Array<{ field: string; problem: string }> };
  replayed: boolean;
}

describe.each(availableTestDrivers())('redemptions (%s)', (driver) => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let baseUrl: string;
  let nc: NatsConnection;
  let keys: { personalize: string; read: string };
  const admin = { Authorization: `Bearer ${ADMIN}` };
  const redeemed: OfferRedeemedV1[] = [];
  const alerts: OfferBudgetAlertV1[] = [];
  const alertsOf = (offerKey: string) => alerts.filter((a) => a.offerKey === offerKey).map((a) => a.threshold);

  beforeAll(async () => {
    // 200 requests at once: no load shedding in this test (it would answer some 503 before they reach the logic).
    service = await startServiceUnderTest(startOffers, { label: 'offred', driver, env: { ADMIN_API_KEY: ADMIN, SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' } });
    http = request(service.app.getHttpServer());
    baseUrl = await service.app.getUrl();
    const issued = await issueTestApiKeys(service.app);
    keys = { personalize: issued.personalize, read: issued.read };
    nc = await connect({ servers: service.natsUrl });
    const redeemedSub = nc.subscribe(`${service.prefix}.${SUBJECTS.offersRedeemed}`);
    const alertSub = nc.subscribe(`${service.prefix}.${SUBJECTS.offersBudgetAlert}`);
    void (async () => {
      for await (const msg of redeemedSub) redeemed.push(redeemedCodec.decode(msg.data).data);
    })();
    void (async () => {
      for await (const msg of alertSub) alerts.push(alertCodec.decode(msg.data).data);
    })();
    await nc.flush();
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  async function activeOffer(key: string, overrides: Record<string, unknown> = {}, codes?: string[]): Promise<{ id: string }> {
    const offer = (await http.post('/v1/offers').set(admin).send(offerBody(key, overrides)).expect(201)).body;
    if (codes) await http.post(`/v1/offers/${key}/codes`).set(admin).send({ codes }).expect(201);
    await http.post(`/v1/offers/${key}/status`).set(admin).send({ status: 'active' }).expect(200);
    return offer;
  }

  async function redeem(body: Record<string, unknown>, idempotencyKey: string | null = randomUUID()): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${keys.personalize}`, 'content-type': 'application/json' };
    if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
    const response = await fetch(`${baseUrl}/v1/redemptions`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Answer['body'], replayed: response.headers.get('idempotent-replayed') === 'true' };
  }

  const budgetUsed = async (key: string): Promise<number> => (await http.get(`/v1/offers/${key}`).set(admin).expect(200)).body.budget.used;
  const problems = (answer: Answer) => answer.body.details;
  const customer = () => randomUUID();

  it('redeems an active offer with the reward value in minor units, reads it back, and announces offers.redeemed', async () => {
    const offer = await activeOffer('ten-percent', { budget: { type: 'amount', amount: 1_000_000, currency: 'EUR' } });
    const profileId = customer();
    const answer = await redeem({ offerKey: 'ten-percent', profileId, orderId: 'order-1', orderAmount: { amount: 12_999, currency: 'EUR' } });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      offerId: offer.id,
      offerKey: 'ten-percent',
      profileId,
      code: null,
      orderId: 'order-1',
      orderAmount: { amount: 12_999, currency: 'EUR' },
      reward: { type: 'percent_off', value: 1300, currency: 'EUR' },
      budget: { type: 'amount', units: 1300 },
      status: 'redeemed',
      cancelledAt: null,
    });
    expect(await budgetUsed('ten-percent')).toBe(1300);
    const id = answer.body.id as string;
    expect(
      (
        await http
          .get(`/v1/redemptions/${id}`)
          .set({ Authorization: `Bearer ${keys.read}` })
          .expect(200)
      ).body,
    ).toEqual(answer.body);
    await http
      .get(`/v1/redemptions/${id}`)
      .set({ Authorization: `Bearer ${keys.personalize}` })
      .expect(403);
    await http.get(`/v1/redemptions/${randomUUID()}`).set(admin).expect(404);
    await http
      .post('/v1/redemptions')
      .set({ Authorization: `Bearer ${keys.read}`, 'Idempotency-Key': randomUUID() })
      .send({ offerKey: 'ten-percent', profileId })
      .expect(403);

    await waitFor(() => redeemed.some((r) => r.redemptionId === id), { timeoutMs: 10_000, what: 'offers.redeemed' });
    expect(redeemed.find((r) => r.redemptionId === id)).toMatchObject({
      offerId: offer.id,
      offerKey: 'ten-percent',
      profileId,
      rewardType: 'percent_off',
      rewardValue: 1300,
      rewardCurrency: 'EUR',
      orderAmount: 12_999,
    });

    // A percent reward against a money budget needs the order amount; a wrong currency never fits.
    expect(problems(await redeem({ offerKey: 'ten-percent', profileId: customer() }))).toEqual([
      { field: 'orderAmount', problem: "is required: the reward is a percent of it and counts against the offer's money budget" },
    ]);
    const usd = await redeem({ offerKey: 'ten-percent', profileId: customer(), orderAmount: { amount: 100, currency: 'USD' } });
    expect([usd.status, problems(usd)]).toEqual([422, [{ field: 'orderAmount.currency', problem: "must be EUR, the currency of the offer's budget" }]]);
    expect(await budgetUsed('ten-percent')).toBe(1300);
  });

  it('redeems only for the customers its eligibility names, from the read model of segment memberships', async () => {
    await activeOffer('vip-only', { budget: { type: 'redemptions', limit: 10 }, eligibility: { segments: { anyOf: ['vip-redeemers'], noneOf: ['fraud-watch'] } } });
    const ann = customer();
    const refused = await redeem({ offerKey: 'vip-only', profileId: ann, orderAmount: { amount: 10_000, currency: 'EUR' } });
    expect(refused.status).toBe(409);
    expect(problems(refused)).toEqual([{ field: 'profileId', problem: 'not eligible: not a member of any of vip-redeemers' }]);
    expect(await budgetUsed('vip-only')).toBe(0);

    // Segmentation puts her into the segment: offers learns it from SEGMENTS, and she may redeem.
    const entered = createEnvelope<SegmentMembershipChangedV1>(SUBJECTS.segmentsEntered, {
      seq: Date.now(),
      segmentId: randomUUID(),
      segmentKey: 'vip-redeemers',
      segmentVersion: 1,
      profileId: ann,
      change: 'entered',
      at: new Date().toISOString(),
    });
    await nc.jetstream().publish(`${service.prefix}.${SUBJECTS.segmentsEntered}`, JSONCodec().encode(entered));
    let answer: Answer | undefined;
    await waitFor(async () => (answer = await redeem({ offerKey: 'vip-only', profileId: ann, orderAmount: { amount: 10_000, currency: 'EUR' } })).status === 201, {
      timeoutMs: 15_000,
      what: 'the redemption accepted once offers knows the membership',
    });
    expect(answer?.body).toMatchObject({ offerKey: 'vip-only', profileId: ann });
  });

  it('refuses offers that are not active or not started yet, and unknown ones, with precise details and no change', async () => {
    await http.post('/v1/offers').set(admin).send(offerBody('still-draft')).expect(201);
    const draft = await redeem({ offerKey: 'still-draft', profileId: customer() });
    expect([draft.status, problems(draft)]).toEqual([409, [{ field: 'offerKey', problem: 'offer not active' }]]);
    await activeOffer('next-year', { startsAt: '2099-01-01T00:00' });
    const early = await redeem({ offerKey: 'next-year', profileId: customer() });
    expect([early.status, problems(early)]).toEqual([409, [{ field: 'offerKey', problem: 'offer not started yet' }]]);
    const unknown = await redeem({ offerKey: 'no-such-offer', profileId: customer() });
    expect([unknown.status, problems(unknown)]).toEqual([404, [{ field: 'offerKey', problem: 'not found' }]]);
    const malformed = await redeem({ offerKey: 'next-year', profileId: 'not-a-uuid' });
    expect([malformed.status, problems(malformed)?.[0].field]).toEqual([400, 'profileId']);
    expect((await http.get('/v1/offers/next-year/redemptions').set(admin).expect(200)).body.redemptions).toEqual([]);
  });

  it('answers a repeated Idempotency-Key with the first answer (refusals too) and changes nothing; the same key with another body is a 422', async () => {
    await activeOffer('once-only', { budget: { type: 'redemptions', limit: 1 } });
    const profileId = customer();
    const key = randomUUID();
    const first = await redeem({ offerKey: 'once-only', profileId }, key);
    expect(first.status).toBe(201);
    const again = await redeem({ offerKey: 'once-only', profileId }, key);
    expect(again).toEqual({ status: 201, body: first.body, replayed: true });
    expect(await budgetUsed('once-only')).toBe(1);

    const reused = await redeem({ offerKey: 'once-only', profileId: customer() }, key);
    expect([reused.status, problems(reused)]).toEqual([422, [{ field: 'Idempotency-Key', problem: 'already used with a different body' }]]);
    const missing = await redeem({ offerKey: 'once-only', profileId }, null);
    expect([missing.status, problems(missing)?.[0].field]).toEqual([400, 'Idempotency-Key']);

    // A refusal is the first answer too: after a cancel frees the budget, its retry is still refused.
    const latecomer = customer();
    const refusedKey = randomUUID();
    const refused = await redeem({ offerKey: 'once-only', profileId: latecomer }, refusedKey);
    expect([refused.status, problems(refused)]).toEqual([409, [{ field: 'budget', problem: 'budget exhausted' }]]);
    await http
      .post(`/v1/redemptions/${first.body.id as string}/cancel`)
      .set({ Authorization: `Bearer ${keys.personalize}` })
      .expect(200);
    expect(await budgetUsed('once-only')).toBe(0);
    expect(await redeem({ offerKey: 'once-only', profileId: latecomer }, refusedKey)).toEqual({ status: 409, body: refused.body, replayed: true });
    expect(await budgetUsed('once-only')).toBe(0);
    expect((await redeem({ offerKey: 'once-only', profileId: latecomer })).status).toBe(201);
  });

  it('checks shared codes case-insensitively, and refuses a missing, wrong or unexpected code with 422', async () => {
    await activeOffer('shared-code', { coupons: { type: 'shared', code: 'WELCOME10' } });
    const ok = await redeem({ offerKey: 'shared-code', profileId: customer(), code: ' welcome10 ' });
    expect([ok.status, ok.body.code]).toEqual([201, 'WELCOME10']);
    const wrong = await redeem({ offerKey: 'shared-code', profileId: customer(), code: 'WELCOME20' });
    expect([wrong.status, problems(wrong)]).toEqual([422, [{ field: 'code', problem: 'code not valid for this offer' }]]);
    const none = await redeem({ offerKey: 'shared-code', profileId: customer() });
    expect([none.status, problems(none)]).toEqual([422, [{ field: 'code', problem: 'is required for this offer' }]]);
    await activeOffer('no-code');
    const unexpected = await redeem({ offerKey: 'no-code', profileId: customer(), code: 'WELCOME10' });
    expect([unexpected.status, problems(unexpected)]).toEqual([422, [{ field: 'code', problem: 'offer takes no code' }]]);
  });

  it('redeems a unique code once; it stays redeemed after a cancel', async () => {
    await activeOffer('unique-codes', { coupons: { type: 'unique' }, budget: { type: 'redemptions', limit: 10 } }, ['UNI-0001', 'UNI-0002']);
    const first = await redeem({ offerKey: 'unique-codes', profileId: customer(), code: 'uni-0001' });
    expect([first.status, first.body.code]).toEqual([201, 'UNI-0001']);
    const twice = await redeem({ offerKey: 'unique-codes', profileId: customer(), code: 'UNI-0001' });
    expect([twice.status, problems(twice)]).toEqual([409, [{ field: 'code', problem: 'code already redeemed' }]]);
    const unknown = await redeem({ offerKey: 'unique-codes', profileId: customer(), code: 'UNI-9999' });
    expect([unknown.status, problems(unknown)]).toEqual([422, [{ field: 'code', problem: 'code not valid for this offer' }]]);
    await http
      .post(`/v1/redemptions/${first.body.id as string}/cancel`)
      .set({ Authorization: `Bearer ${keys.personalize}` })
      .expect(200);
    expect((await http.get('/v1/offers/unique-codes/codes').set(admin).expect(200)).body.counts).toEqual({ available: 1, reserved: 0, redeemed: 1, total: 2 });
    expect(problems(await redeem({ offerKey: 'unique-codes', profileId: customer(), code: 'UNI-0001' }))).toEqual([{ field: 'code', problem: 'code already redeemed' }]);
    expect(await budgetUsed('unique-codes')).toBe(0);
  });

  it('rolls back every write of a redemption the budget refuses: its code stays available, no redemption, no offers.redeemed; the refusal replays', async () => {
    await activeOffer('last-code', { coupons: { type: 'unique' }, budget: { type: 'redemptions', limit: 1 } }, ['LAST-0001', 'LAST-0002']);
    expect((await redeem({ offerKey: 'last-code', profileId: customer(), code: 'LAST-0001' })).status).toBe(201);
    // The code's UPDATE, the redemption row, its message and its 201 answer are written before the budget refuses.
    const latecomer = customer();
    const key = randomUUID();
    const refused = await redeem({ offerKey: 'last-code', profileId: latecomer, code: 'LAST-0002' }, key);
    expect([refused.status, problems(refused)]).toEqual([409, [{ field: 'budget', problem: 'budget exhausted' }]]);
    expect((await http.get('/v1/offers/last-code/codes').set(admin).expect(200)).body.counts).toEqual({ available: 1, reserved: 0, redeemed: 1, total: 2 });
    const listed = (await http.get('/v1/offers/last-code/redemptions').set(admin).expect(200)).body.redemptions as Array<{ profileId: string }>;
    expect(listed.map((r) => r.profileId)).not.toContain(latecomer);
    expect(await redeem({ offerKey: 'last-code', profileId: latecomer, code: 'LAST-0002' }, key)).toEqual({ status: 409, body: refused.body, replayed: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(redeemed.filter((r) => r.offerKey === 'last-code')).toHaveLength(1);
    expect(await budgetUsed('last-code')).toBe(1);
  });

  it('holds the per-customer limit over its period; a cancelled redemption gives the use back', async () => {
    await activeOffer('twice-a-month', { perCustomerLimit: { count: 2, periodDays: 30 } });
    const profileId = customer();
    const one = await redeem({ offerKey: 'twice-a-month', profileId });
    expect((await redeem({ offerKey: 'twice-a-month', profileId })).status).toBe(201);
    const third = await redeem({ offerKey: 'twice-a-month', profileId });
    expect([third.status, problems(third)]).toEqual([409, [{ field: 'profileId', problem: 'limit reached' }]]);
    expect(third.body.message).toBe(`Customer ${profileId} has redeemed offer "twice-a-month" 2 times in 30 days; the limit is 2 in 30 days`);
    expect((await redeem({ offerKey: 'twice-a-month', profileId: customer() })).status).toBe(201);
    await http
      .post(`/v1/redemptions/${one.body.id as string}/cancel`)
      .set({ Authorization: `Bearer ${keys.personalize}` })
      .expect(200);
    expect((await redeem({ offerKey: 'twice-a-month', profileId })).status).toBe(201);
  });

  it('cancels once: the budget comes back, a second cancel answers the same; lists the redemptions of an offer newest first, paged', async () => {
    await activeOffer('returns', { reward: { type: 'amount_off', amount: 500, currency: 'EUR' }, budget: { type: 'amount', amount: 10_000, currency: 'EUR' } });
    const ids: string[] = [];
    for (const amount of [300, 2000, 2000]) {
      const answer = await redeem({ offerKey: 'returns', profileId: customer(), orderAmount: { amount, currency: 'EUR' } });
      expect(answer.status).toBe(201);
      ids.push(answer.body.id as string);
    }
    // A fixed amount is capped at the order: 300 + 500 + 500.
    expect(await budgetUsed('returns')).toBe(1300);
    const personalize = { Authorization: `Bearer ${keys.personalize}` };
    const cancelled = (await http.post(`/v1/redemptions/${ids[1]}/cancel`).set(personalize).expect(200)).body;
    expect(cancelled).toMatchObject({ id: ids[1], status: 'cancelled', budget: { type: 'amount', units: 500 } });
    expect(cancelled.cancelledAt).toEqual(expect.any(String));
    expect((await http.post(`/v1/redemptions/${ids[1]}/cancel`).set(personalize).expect(200)).body).toEqual(cancelled);
    expect(await budgetUsed('returns')).toBe(800);
    await http.post(`/v1/redemptions/${randomUUID()}/cancel`).set(personalize).expect(404);

    const read = { Authorization: `Bearer ${keys.read}` };
    const page = (await http.get('/v1/offers/returns/redemptions').query({ limit: 2 }).set(read).expect(200)).body;
    expect(page.redemptions.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const rest = (await http.get('/v1/offers/returns/redemptions').query({ limit: 2, cursor: page.nextCursor }).set(read).expect(200)).body;
    expect(rest).toEqual({ redemptions: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    const onlyCancelled = (await http.get('/v1/offers/returns/redemptions').query({ status: 'cancelled' }).set(read).expect(200)).body;
    expect(onlyCancelled.redemptions.map((r: { id: string }) => r.id)).toEqual([ids[1]]);
    await http.get('/v1/offers/no-such-offer/redemptions').set(read).expect(404);
    await http.get('/v1/offers/returns/redemptions').query({ cursor: 'x' }).set(read).expect(400);
  });

  it('alerts on NATS when a redemption takes the budget across 80 % and 100 %, once per crossing; a cancel and a new crossing alert again', async () => {
    await activeOffer('five-only', { budget: { type: 'redemptions', limit: 5 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await redeem({ offerKey: 'five-only', profileId: customer() })).body.id as string);
    await waitFor(() => alertsOf('five-only').length === 2, { timeoutMs: 10_000, what: 'alerts at 80 % and 100 %' });
    expect(alerts.filter((a) => a.offerKey === 'five-only')).toEqual([
      expect.objectContaining({ threshold: 80, budgetType: 'redemptions', used: 4, total: 5, currency: null, redemptionId: ids[3] }),
      expect.objectContaining({ threshold: 100, used: 5, total: 5, redemptionId: ids[4] }),
    ]);
    await http
      .post(`/v1/redemptions/${ids[0]}/cancel`)
      .set({ Authorization: `Bearer ${keys.personalize}` })
      .expect(200);
    const last = await redeem({ offerKey: 'five-only', profileId: customer() });
    expect(last.status).toBe(201);
    await waitFor(() => redeemed.some((r) => r.redemptionId === last.body.id), { timeoutMs: 10_000, what: 'the last offers.redeemed' });
    // 4 → 5 crosses 100 % again; 80 % was never left.
    await waitFor(() => alertsOf('five-only').length === 3, { timeoutMs: 10_000, what: 'the second alert at 100 %' });
    expect(alertsOf('five-only')).toEqual([80, 100, 100]);
  });

  it('alerts both thresholds at once when one redemption of a money budget crosses both, with the currency and the redemption time', async () => {
    const offer = await activeOffer('money-budget', { reward: { type: 'amount_off', amount: 500, currency: 'EUR' }, budget: { type: 'amount', amount: 1000, currency: 'EUR' } });
    expect((await redeem({ offerKey: 'money-budget', profileId: customer() })).status).toBe(201); // 50 %: no alert
    const second = await redeem({ offerKey: 'money-budget', profileId: customer() });
    await waitFor(() => alertsOf('money-budget').length === 2, { timeoutMs: 10_000, what: 'alerts at 80 % and 100 %' });
    const alert = { offerId: offer.id, offerKey: 'money-budget', budgetType: 'amount', used: 1000, total: 1000, currency: 'EUR', redemptionId: second.body.id, at: second.body.redeemedAt };
    expect(alerts.filter((a) => a.offerKey === 'money-budget')).toEqual([
      { ...alert, threshold: 80 },
      { ...alert, threshold: 100 },
    ]);
    const refused = await redeem({ offerKey: 'money-budget', profileId: customer() });
    expect([refused.status, refused.body.message]).toEqual([409, 'Offer "money-budget" has used 1000 of its budget of 1000 minor units of EUR; this redemption needs 500']);
  });

  it('redeems exactly 50 of 200 concurrent requests against a budget of 50, and alerts once per threshold', async () => {
    await activeOffer('fifty', { budget: { type: 'redemptions', limit: 50 } });
    const answers = await Promise.all(Array.from({ length: 200 }, () => redeem({ offerKey: 'fifty', profileId: customer() })));
    const byStatus = (status: number) => answers.filter((a) => a.status === status);
    expect({ created: byStatus(201).length, refused: byStatus(409).length }).toEqual({ created: 50, refused: 150 });
    expect(byStatus(409).every((a) => JSON.stringify(problems(a)) === JSON.stringify([{ field: 'budget', problem: 'budget exhausted' }]))).toBe(true);
    expect(await budgetUsed('fifty')).toBe(50);
    expect((await http.get('/v1/offers/fifty/redemptions').query({ limit: 1000 }).set(admin).expect(200)).body.redemptions).toHaveLength(50);
    const ids = new Set(byStatus(201).map((a) => a.body.id));
    await waitFor(() => redeemed.filter((r) => ids.has(r.redemptionId)).length === 50 && alertsOf('fifty').length >= 2, { timeoutMs: 20_000, what: '50 offers.redeemed and the alerts' });
    expect(alertsOf('fifty')).toEqual([80, 100]);
  });

  it('redeems one unique code exactly once among 100 concurrent requests', async () => {
    await activeOffer('one-code', { coupons: { type: 'unique' } }, ['ONLY-ONE-CODE']);
    const answers = await Promise.all(Array.from({ length: 100 }, () => redeem({ offerKey: 'one-code', profileId: customer(), code: 'only-one-code' })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(99);
    expect(refused.every((a) => problems(a)?.[0].problem === 'code already redeemed')).toBe(true);
    expect((await http.get('/v1/offers/one-code/codes').set(admin).expect(200)).body.counts).toMatchObject({ redeemed: 1, available: 0 });
  });

  it('holds the per-customer limit under 50 parallel requests from one customer', async () => {
    await activeOffer('three-each', { perCustomerLimit: { count: 3 } });
    const profileId = customer();
    const answers = await Promise.all(Array.from({ length: 50 }, () => redeem({ offerKey: 'three-each', profileId })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(47);
    expect(refused.every((a) => problems(a)?.[0].problem === 'limit reached')).toBe(true);
    expect((await http.get('/v1/offers/three-each/redemptions').set(admin).expect(200)).body.redemptions).toHaveLength(3);
  });
});
