import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { SUBJECTS, type Envelope, type OfferServedV1, type ProfileUpdatedV1, type SegmentChangedV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { createEnvelope } from '@segmenta/messaging';
import { waitFor } from '@segmenta/infra';
import { availableTestDrivers } from '@segmenta/persistence';
import { startOffers } from '../src/start';

/**
 * The personalized offers API against real NATS and PostgreSQL (and PGlite): eligibility from the
 * read model, ranking, reasons, codes reserved per customer, exposures on NATS, the matrix. Each
 * test uses its own placement, so the offers of the others do not show up in its answers.
 */
jest.setTimeout(120_000);

const ADMIN = 'offers-personalized-admin-key-0123456789';
const PLACEMENTS = ['home_banner', 'checkout', 'seg_test', 'named_test', 'rank_test', 'budget_test', 'visitor_test', 'race_test', 'pool_test'];
const servedCodec = JSONCodec<Envelope<OfferServedV1>>();
const codec = JSONCodec();

interface ServedOffer {
  id: string;
  key: string;
  coupon: { type: string; code: string } | null;
  reasons: string[];
  expectedValue: number;
}
interface Answer {
  servedId: string;
  profileId: string | null;
  placement: string | null;
  offers: ServedOffer[];
}

const offerBody = (key: string, placement: string, overrides: Record<string, unknown> = {}) => ({
  key,
  name: `Offer ${key}`,
  description: 'Personalized',
  reward: { type: 'amount_off', amount: 500, currency: 'EUR' },
  placements: [placement],
  startsAt: '2020-01-01T00:00',
  endsAt: null,
  timeZone: 'Europe/Berlin',
  coupons: { type: 'none' },
  ...overrides,
});

describe.each(availableTestDrivers())('personalized offers (%s)', (driver) => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  let keys: { personalize: string; read: string };
  let seq = Date.now();
  const admin = { Authorization: `Bearer ${ADMIN}` };
  const served: OfferServedV1[] = [];

  beforeAll(async () => {
    service = await startServiceUnderTest(startOffers, {
      label: 'offpers',
      driver,
      env: { ADMIN_API_KEY: ADMIN, OFFER_PLACEMENTS: PLACEMENTS.join(','), SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' },
    });
    http = request(service.app.getHttpServer());
    const issued = await issueTestApiKeys(service.app);
    keys = { personalize: issued.personalize, read: issued.read };
    nc = await connect({ servers: service.natsUrl });
    const sub = nc.subscribe(`${service.prefix}.${SUBJECTS.offersServed}`);
    void (async () => {
      for await (const msg of sub) served.push(servedCodec.decode(msg.data).data);
    })();
    await nc.flush();
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  const personalize = () => ({ Authorization: `Bearer ${keys.personalize}` });

  async function activeOffer(key: string, placement: string, overrides: Record<string, unknown> = {}, codes?: string[]): Promise<{ id: string }> {
    const offer = (
      await http
        .post('/v1/offers')
        .set(admin)
        .send(offerBody(key, placement, overrides))
        .expect(201)
    ).body;
    if (codes) await http.post(`/v1/offers/${key}/codes`).set(admin).send({ codes }).expect(201);
    await http.post(`/v1/offers/${key}/status`).set(admin).send({ status: 'active' }).expect(200);
    return offer;
  }

  const offersOf = async (profileId: string, query: Record<string, unknown> = {}): Promise<Answer> =>
    (await http.get(`/v1/customers/${profileId}/offers`).query(query).set(personalize()).expect(200)).body;
  const offersBy = async (query: Record<string, unknown>): Promise<Answer> => (await http.get('/v1/customers/offers').query(query).set(personalize()).expect(200)).body;
  const keysOf = (answer: Answer) => answer.offers.map((o) => o.key);

  async function enter(profileId: string, segmentKey: string): Promise<void> {
    const entered = createEnvelope<SegmentMembershipChangedV1>(SUBJECTS.segmentsEntered, {
      seq: ++seq,
      segmentId: randomUUID(),
      segmentKey,
      segmentVersion: 1,
      profileId,
      change: 'entered',
      at: new Date().toISOString(),
    });
    await nc.jetstream().publish(`${service.prefix}.${SUBJECTS.segmentsEntered}`, codec.encode(entered));
  }

  async function updateProfile(profileId: string, features: Record<string, unknown>, identifiers?: ProfileUpdatedV1['identifiers']): Promise<void> {
    const envelope = createEnvelope<ProfileUpdatedV1>(SUBJECTS.profilesUpdated, { profileId, traits: {}, features, full: true, updatedAt: new Date().toISOString(), identifiers });
    await nc.jetstream().publish(`${service.prefix}.${SUBJECTS.profilesUpdated}`, codec.encode(envelope));
  }

  async function redeem(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> & { details?: Array<{ field: string; problem: string }> } }> {
    const response = await http
      .post('/v1/redemptions')
      .set({ ...personalize(), 'Idempotency-Key': randomUUID() })
      .send(body);
    return { status: response.status, body: response.body };
  }

  it('serves a segment offer with its reason and a reserved unique code that stays the same, by profile id and by user id; offers.served arrives; the code redeems once', async () => {
    const offer = await activeOffer('cams-10', 'seg_test', { eligibility: { segments: { anyOf: ['camera-intent'] } }, coupons: { type: 'unique' } }, ['CAM-0001', 'CAM-0002', 'CAM-0003']);
    const profileId = randomUUID();
    const userId = `user-${randomUUID()}`;
    expect(keysOf(await offersOf(profileId, { placement: 'seg_test' }))).toEqual([]);

    await enter(profileId, 'camera-intent');
    let answer: Answer | undefined;
    await waitFor(async () => (answer = await offersOf(profileId, { placement: 'seg_test' })).offers.length === 1, { timeoutMs: 15_000, what: 'the offer once the membership is known' });
    const first = answer as Answer;
    expect(first).toMatchObject({ profileId, placement: 'seg_test' });
    expect(first.offers[0]).toMatchObject({ id: offer.id, key: 'cams-10', reasons: ['member of camera-intent'], coupon: { type: 'unique', code: expect.stringMatching(/^CAM-000\d$/) } });
    const code = first.offers[0].coupon?.code;
    expect((await offersOf(profileId, { placement: 'seg_test' })).offers[0].coupon?.code).toBe(code);
    expect((await http.get('/v1/offers/cams-10/codes').set(admin).expect(200)).body.counts).toMatchObject({ available: 2, reserved: 1 });

    // The app knows the customer by its user id once profiles announced it.
    await updateProfile(profileId, { lifecycle_stage: 'active' }, { userId });
    await waitFor(async () => (await offersBy({ userId, placement: 'seg_test' })).profileId === profileId, { timeoutMs: 15_000, what: 'the user id resolving' });
    const byUser = await offersBy({ userId, placement: 'seg_test' });
    expect(byUser.offers.map((o) => [o.key, o.coupon?.code])).toEqual([['cams-10', code]]);

    await waitFor(() => served.some((s) => s.servedId === byUser.servedId), { timeoutMs: 10_000, what: 'offers.served' });
    expect(served.find((s) => s.servedId === first.servedId)).toMatchObject({
      profileId,
      identifier: { kind: 'profile_id', value: profileId },
      placement: 'seg_test',
      offers: [{ offerId: offer.id, offerKey: 'cams-10' }],
      at: expect.any(String),
    });
    expect(served.find((s) => s.servedId === byUser.servedId)).toMatchObject({ profileId, identifier: { kind: 'user_id', value: userId } });

    // Another customer may not use the reserved code; its customer redeems it once.
    const stranger = randomUUID();
    await enter(stranger, 'camera-intent');
    await waitFor(async () => (await offersOf(stranger, { placement: 'seg_test' })).offers.length === 1, { timeoutMs: 15_000, what: 'the stranger eligible' });
    const theirs = await redeem({ offerKey: 'cams-10', profileId: stranger, code });
    expect([theirs.status, theirs.body.details]).toEqual([409, [{ field: 'code', problem: 'code reserved for another customer' }]]);
    const redeemed = await redeem({ offerKey: 'cams-10', profileId, code });
    expect([redeemed.status, redeemed.body.code]).toEqual([201, code]);
    const again = await redeem({ offerKey: 'cams-10', profileId, code });
    expect([again.status, again.body.details]).toEqual([409, [{ field: 'code', problem: 'code already redeemed' }]]);
  });

  it('names segments in its reasons by the names segmentation gave them, and by a new name once it is renamed', async () => {
    await activeOffer('named-10', 'named_test', { eligibility: { segments: { anyOf: ['camera-fans-week'] } } });
    const segmentId = randomUUID();
    const announce = async (name: string, version: number) => {
      const changed = createEnvelope<SegmentChangedV1>(SUBJECTS.segmentsChanged, { segmentId, key: 'camera-fans-week', name, kind: 'rule', version, status: 'active', at: new Date().toISOString() });
      await nc.jetstream().publish(`${service.prefix}.${SUBJECTS.segmentsChanged}`, codec.encode(changed));
    };
    const profileId = randomUUID();
    await enter(profileId, 'camera-fans-week');
    await announce('Camera fans this week', 1);
    const reasons = async () => (await offersOf(profileId, { placement: 'named_test' })).offers[0]?.reasons;
    await waitFor(async () => JSON.stringify(await reasons()) === JSON.stringify(['member of Camera fans this week']), { timeoutMs: 15_000, what: 'the reason naming the segment' });
    await announce('Camera lovers', 2);
    await waitFor(async () => JSON.stringify(await reasons()) === JSON.stringify(['member of Camera lovers']), { timeoutMs: 15_000, what: 'the reason with the new name' });
  });

  it('filters by placement and ranks by priority, then the reward worth to the customer weighted by their redemption propensity', async () => {
    await activeOffer('rank-priority', 'rank_test', { priority: 5, reward: { type: 'amount_off', amount: 100, currency: 'EUR' } });
    await activeOffer('rank-fixed', 'rank_test', { reward: { type: 'amount_off', amount: 900, currency: 'EUR' } });
    await activeOffer('rank-percent', 'rank_test', { reward: { type: 'percent_off', percent: 10 } });
    await activeOffer('rank-points', 'rank_test', { reward: { type: 'bonus_points', points: 300 } });
    await activeOffer('rank-elsewhere', 'checkout', { priority: 100 });
    const profileId = randomUUID();
    await updateProfile(profileId, { aov: 20_000, propensity_offer_redemption: 0.5 });
    await waitFor(async () => (await offersOf(profileId, { placement: 'rank_test' })).offers.some((o) => o.key === 'rank-percent' && o.expectedValue === 1000), {
      timeoutMs: 15_000,
      what: 'the profile facts applied',
    });
    const answer = await offersOf(profileId, { placement: 'rank_test' });
    // 10 % of 200.00 = 2000 × 0.5; 900 × 0.5; 300 points × 1 × 0.5.
    expect(answer.offers.map((o) => [o.key, o.expectedValue, o.reasons])).toEqual([
      ['rank-priority', 50, ['everyone']],
      ['rank-percent', 1000, ['everyone']],
      ['rank-fixed', 450, ['everyone']],
      ['rank-points', 150, ['everyone']],
    ]);
    expect(keysOf(await offersOf(profileId, { placement: 'rank_test', limit: 2 }))).toEqual(['rank-priority', 'rank-percent']);
    expect(keysOf(await offersOf(profileId, { placement: 'checkout' }))).toContain('rank-elsewhere');
    expect(keysOf(await offersOf(profileId, { placement: 'checkout' }))).not.toContain('rank-fixed');
  });

  it('leaves out at once an offer whose budget is used up or whose per-customer limit the customer reached', async () => {
    await activeOffer('budget-one', 'budget_test', { budget: { type: 'redemptions', limit: 1 } });
    await activeOffer('once-each', 'budget_test', { perCustomerLimit: { count: 1, periodDays: 30 }, priority: 1 });
    const [ann, bob] = [randomUUID(), randomUUID()];
    expect(keysOf(await offersOf(ann, { placement: 'budget_test' }))).toEqual(['once-each', 'budget-one']);

    expect((await redeem({ offerKey: 'once-each', profileId: ann })).status).toBe(201);
    expect(keysOf(await offersOf(ann, { placement: 'budget_test' }))).toEqual(['budget-one']);
    expect(keysOf(await offersOf(bob, { placement: 'budget_test' }))).toEqual(['once-each', 'budget-one']);

    expect((await redeem({ offerKey: 'budget-one', profileId: bob })).status).toBe(201);
    expect(keysOf(await offersOf(ann, { placement: 'budget_test' }))).toEqual([]);
    expect(keysOf(await offersOf(bob, { placement: 'budget_test' }))).toEqual(['once-each']);
  });

  it('gives an unknown visitor only the offers for everyone that need no reserved code', async () => {
    await activeOffer('visitor-welcome', 'visitor_test', { coupons: { type: 'shared', code: 'WELCOME5' } });
    await activeOffer('visitor-vip', 'visitor_test', { eligibility: { segments: { anyOf: ['vip'] } }, priority: 10 });
    await activeOffer('visitor-winback', 'visitor_test', { eligibility: { lifecycleStages: ['at_risk'] } });
    await activeOffer('visitor-not-fraud', 'visitor_test', { eligibility: { segments: { noneOf: ['fraud-watch'] } } });
    await activeOffer('visitor-unique', 'visitor_test', { coupons: { type: 'unique' } }, ['VIS-0001']);
    const anonymousId = `anon-${randomUUID()}`;
    const answer = await offersBy({ anonymousId, placement: 'visitor_test' });
    expect(answer.profileId).toBeNull();
    expect(answer.offers.map((o) => [o.key, o.coupon, o.reasons])).toEqual([['visitor-welcome', { type: 'shared', code: 'WELCOME5' }, ['everyone']]]);
    await waitFor(() => served.some((s) => s.servedId === answer.servedId), { timeoutMs: 10_000, what: "the visitor's offers.served" });
    expect(served.find((s) => s.servedId === answer.servedId)).toMatchObject({ profileId: null, identifier: { kind: 'anonymous_id', value: anonymousId }, placement: 'visitor_test' });
    expect((await offersBy({ email: 'nobody@example.com', placement: 'visitor_test' })).offers).toHaveLength(1);
  });

  it('reserves exactly one code for one customer among 20 parallel requests, and leaves the offer out once the pool is empty', async () => {
    await activeOffer('race-codes', 'race_test', { coupons: { type: 'unique' } }, ['RACE-0001', 'RACE-0002', 'RACE-0003']);
    const profileId = randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => offersOf(profileId, { placement: 'race_test' })));
    const codes = new Set(answers.map((a) => a.offers[0]?.coupon?.code));
    expect(codes.size).toBe(1);
    expect([...codes][0]).toMatch(/^RACE-000\d$/);
    expect((await http.get('/v1/offers/race-codes/codes').set(admin).expect(200)).body.counts).toMatchObject({ available: 2, reserved: 1 });

    await activeOffer('pool-of-one', 'pool_test', { coupons: { type: 'unique' } }, ['LAST-0001']);
    const [first, second] = [randomUUID(), randomUUID()];
    expect((await offersOf(first, { placement: 'pool_test' })).offers.map((o) => o.coupon?.code)).toEqual(['LAST-0001']);
    expect(keysOf(await offersOf(second, { placement: 'pool_test' }))).toEqual([]);
    expect((await offersOf(first, { placement: 'pool_test' })).offers.map((o) => o.coupon?.code)).toEqual(['LAST-0001']);
  });

  it('refuses read keys on the customer offers routes, which reserve codes and record exposures, and lets them read the matrix', async () => {
    const read = { Authorization: `Bearer ${keys.read}` };
    const refused = await http.get(`/v1/customers/${randomUUID()}/offers`).set(read).expect(403);
    expect(refused.body.message).toMatch(/admin or personalize/);
    await http.get('/v1/customers/offers').query({ userId: 'someone' }).set(read).expect(403);
    await http.get('/v1/personalization-matrix').set(read).expect(200);
  });

  it('answers the personalization matrix as JSON and as CSV', async () => {
    await activeOffer('matrix-cams', 'home_banner', { name: 'Cameras for at-risk', eligibility: { segments: { anyOf: ['matrix-cams'] }, lifecycleStages: ['at_risk'] } });
    const read = { Authorization: `Bearer ${keys.read}` };
    const json = (await http.get('/v1/personalization-matrix').set(read).expect(200)).body;
    expect(json.segments).toEqual(expect.arrayContaining([null, 'camera-intent', 'matrix-cams']));
    const cell = (segment: string | null, stage: string) => json.cells.find((c: { segment: string | null; lifecycleStage: string }) => c.segment === segment && c.lifecycleStage === stage).offers;
    expect(cell('matrix-cams', 'at_risk')).toContainEqual({ key: 'matrix-cams', name: 'Cameras for at-risk' });
    // Rows are named as segmentation names them (renamed in the test above); one offers has not heard of keeps its key.
    expect(json.segmentNames).toMatchObject({ 'camera-fans-week': 'Camera lovers', 'matrix-cams': 'matrix-cams' });
    expect(cell('matrix-cams', 'loyal')).not.toContainEqual(expect.objectContaining({ key: 'matrix-cams' }));
    expect(cell(null, 'at_risk')).not.toContainEqual(expect.objectContaining({ key: 'matrix-cams' }));

    for (const csv of [
      await http.get('/v1/personalization-matrix').query({ format: 'csv' }).set(read).expect(200),
      await http
        .get('/v1/personalization-matrix')
        .set({ ...read, Accept: 'text/csv' })
        .expect(200),
    ]) {
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const lines = csv.text.split('\r\n');
      expect(lines[0]).toBe('segment,key,prospect,new,active,loyal,at risk,lapsed');
      const row = lines.find((l) => l.startsWith('matrix-cams,matrix-cams,'))?.split(',');
      expect(row?.[6]).toContain('Cameras for at-risk');
      expect(row?.[5]).not.toContain('Cameras for at-risk');
      expect(lines.some((l) => l.startsWith('Camera lovers,camera-fans-week,'))).toBe(true);
    }
    await http.get('/v1/personalization-matrix').set(personalize()).expect(403);
  });

  it('refuses malformed requests with the field named', async () => {
    const detail = async (path: string, query: Record<string, unknown>) => (await http.get(path).query(query).set(personalize()).expect(400)).body.details[0].field;
    expect(await detail('/v1/customers/not-a-uuid/offers', {})).toBe('id');
    expect(await detail(`/v1/customers/${randomUUID()}/offers`, { placement: 'nowhere' })).toBe('placement');
    expect(await detail(`/v1/customers/${randomUUID()}/offers`, { limit: 51 })).toBe('limit');
    expect(await detail('/v1/customers/offers', {})).toBe('userId');
    expect(await detail('/v1/customers/offers', { userId: 'u', email: 'a@example.com' })).toBe('userId');
    await http.get(`/v1/customers/${randomUUID()}/offers`).expect(401);
  });
});
