import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { startPlatform, type Platform } from './platform-fixture';

/**
 * Issue 18's camera example, end to end against the real services: a customer views cameras three
 * times within a week (Segment-spec track calls on ingestion), profiles and segmentation put them
 * into a "camera fans this week" rule segment, offers serves them "10% off cameras" with a reason
 * and a unique code reserved for them, they redeem it once and a second use is refused. A customer
 * who viewed cameras only twice this week gets no offer. Every service runs as its own process on
 * one NATS prefix and one database.
 */
jest.setTimeout(90_000);

const DAY = 86_400_000;
const SEGMENT = {
  key: 'camera-fans-week',
  name: 'Camera fans this week',
  description: 'Viewed cameras at least three times in the last 7 days',
  definition: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 3 }, within: 'P7D' },
};
const OFFER_KEY = 'cameras-10';

interface ServedOffer {
  key: string;
  name: string;
  reward: Record<string, unknown>;
  categories: string[];
  coupon: { type: string; code: string } | null;
  reasons: string[];
}
interface Served {
  servedId: string;
  profileId: string | null;
  offers: ServedOffer[];
}

let platform: Platform;
let ingestion: ServiceProcess;
let segmentation: ServiceProcess;
let offers: ServiceProcess;
/** The shop's app: a personalize key. */
let app: { authorization: string };
/** Basic auth with a source's write key. */
let writeKey: string;

/** Today's date in the shop's time zone (the offer's window is local). */
const localDate = (timeZone: string, plusDays = 0) => new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + plusDays * DAY));

/** A Segment-spec track call: `Product Viewed` with a category, `daysAgo` days back. */
const view = (userId: string, category: string, daysAgo: number) => ({
  messageId: `cam-${randomUUID()}`,
  userId,
  event: 'Product Viewed',
  properties: { category, sku: `${category}-${Math.floor(daysAgo)}`, price: 499 },
  timestamp: new Date(Date.now() - daysAgo * DAY).toISOString(),
});

const offersFor = async (userId: string): Promise<Served> => (await request(offers.url).get('/v1/customers/offers').query({ userId }).set(app).expect(200)).body as Served;

const redeem = (body: Record<string, unknown>) => request(offers.url).post('/v1/redemptions').set(app).set('Idempotency-Key', randomUUID()).send(body);

async function pairs(query: string, segmentKey: string): Promise<string[]> {
  return (await platform.db.query<{ profile_id: string }>(query, [segmentKey])).rows.map((r) => r.profile_id);
}
/** Segmentation's members of the segment, and what offers' read model holds of them. */
const segmentationMembers = () => pairs('select m.profile_id from segmentation.memberships m join segmentation.segments s on s.id = m.segment_id where s.key = $1 order by 1', SEGMENT.key);
const offersMembers = () => pairs('select profile_id from offers.membership_view where segment_key = $1 and member order by 1', SEGMENT.key);

beforeAll(async () => {
  platform = await startPlatform('camoff', ['ingestion', 'profiles', 'segmentation', 'offers']);
  [ingestion, , segmentation, offers] = platform.services;
  const source = await request(ingestion.url).post('/v1/sources').set(platform.admin).send({ name: 'shop' }).expect(201);
  writeKey = `Basic ${Buffer.from(`${source.body.writeKey as string}:`).toString('base64')}`;
  const key = await request(ingestion.url)
    .post('/v1/api-keys')
    .set(platform.admin)
    .send({ name: 'storefront', scopes: ['personalize'] })
    .expect(201);
  app = { authorization: `Bearer ${key.body.secret as string}` };
});

afterAll(async () => {
  await platform?.stop();
});

it('serves "10% off cameras" with a reason and a reserved code to a customer who viewed cameras three times this week, redeems it once and refuses a second use; twice is not enough', async () => {
  // The loyalty team: the segment on segmentation, the offer with a pool of unique codes on offers.
  await request(segmentation.url).post('/v1/segments').set(platform.admin).send(SEGMENT).expect(201);
  const timeZone = 'Europe/Berlin';
  await request(offers.url)
    .post('/v1/offers')
    .set(platform.admin)
    .send({
      key: OFFER_KEY,
      name: '10% off cameras',
      description: 'Camera fans get 10% off any camera this week.',
      reward: { type: 'percent_off', percent: 10 },
      categories: ['cameras'],
      placements: ['checkout', 'app_inbox'],
      priority: 10,
      startsAt: `${localDate(timeZone)}T00:00`,
      endsAt: `${localDate(timeZone, 30)}T23:59`,
      timeZone,
      eligibility: { segments: { anyOf: [SEGMENT.key] } },
      budget: { type: 'redemptions', limit: 100 },
      coupons: { type: 'unique' },
    })
    .expect(201);
  const pool = await request(offers.url)
    .post(`/v1/offers/${OFFER_KEY}/codes`)
    .set(platform.admin)
    .send({ generate: { count: 20, prefix: 'CAM10-', length: 8 }, idempotencyKey: 'camera-pool-1' })
    .expect(201);
  expect(pool.body.counts).toMatchObject({ available: 20 });
  await request(offers.url).post(`/v1/offers/${OFFER_KEY}/status`).set(platform.admin).send({ status: 'active' }).expect(200);
  // The new key reaches offers through the key bucket.
  await waitFor(async () => (await request(offers.url).get('/v1/customers/offers').query({ userId: 'nobody' }).set(app)).status === 200, {
    timeoutMs: 10_000,
    intervalMs: 50,
    what: 'the personalize key working on offers',
  });

  // The shop: a fan views cameras three times this week; another customer twice this week (once
  // more ten days ago, outside the window, and lenses today: neither counts).
  const fan = `fan-${randomUUID()}`;
  const fanDevice = `device-${randomUUID()}`;
  const twice = `twice-${randomUUID()}`;
  const calls = [
    { ...view(fan, 'cameras', 6), anonymousId: fanDevice },
    view(fan, 'cameras', 3),
    view(fan, 'cameras', 0.01),
    view(twice, 'cameras', 10),
    view(twice, 'cameras', 4),
    view(twice, 'cameras', 0.01),
    view(twice, 'lenses', 0.01),
  ];
  for (const call of calls) await request(ingestion.url).post('/v1/track').set('authorization', writeKey).send(call).expect(200);

  // Profiles, segmentation and offers catch up: the fan is served the offer.
  let served: Served | undefined;
  await waitFor(async () => (served = await offersFor(fan)).offers.some((o) => o.key === OFFER_KEY), {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: `${OFFER_KEY} among the fan's offers`,
  });
  const first = served as Served;
  expect(first.profileId).toEqual(expect.any(String));
  expect(first.offers).toHaveLength(1);
  const offer = first.offers[0];
  expect(offer).toMatchObject({
    key: OFFER_KEY,
    name: '10% off cameras',
    reward: { type: 'percent_off', percent: 10 },
    categories: ['cameras'],
    // The segment by the name segmentation gave it.
    reasons: [`member of ${SEGMENT.name}`],
    coupon: { type: 'unique', code: expect.stringMatching(/^CAM10-\w{8}$/) },
  });
  const code = offer.coupon?.code as string;
  expect(await segmentationMembers()).toEqual([first.profileId]);

  // Asking again: the same code, reserved for this customer.
  const again = await offersFor(fan);
  expect(again.servedId).not.toBe(first.servedId);
  expect(again.offers.map((o) => [o.key, o.coupon?.code])).toEqual([[OFFER_KEY, code]]);
  expect((await request(offers.url).get(`/v1/offers/${OFFER_KEY}/codes`).set(platform.admin).expect(200)).body.counts).toMatchObject({ available: 19, reserved: 1 });
  // An app that knows the customer only by the device's anonymous id gets the same: profiles publishes the anonymous ids it attaches.
  const byDevice = (await request(offers.url).get('/v1/customers/offers').query({ anonymousId: fanDevice }).set(app).expect(200)).body as Served;
  expect([byDevice.profileId, byDevice.offers.map((o) => [o.key, o.coupon?.code])]).toEqual([first.profileId, [[OFFER_KEY, code]]]);

  // Twice is not enough: once segmentation holds all four of their views and offers holds exactly
  // segmentation's members, they get only the offers for everyone (none here).
  let other: Served | undefined;
  await waitFor(async () => (other = await offersFor(twice)).profileId !== null, { timeoutMs: 20_000, intervalMs: 100, what: "offers knowing the other customer's user id" });
  const otherProfileId = (other as Served).profileId as string;
  expect(otherProfileId).not.toBe(first.profileId);
  await waitFor(async () => (await platform.db.query('select 1 from segmentation.behaviour_facts where profile_id = $1', [otherProfileId])).rowCount === 4, {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: "the other customer's four views in segmentation",
  });
  await waitFor(async () => JSON.stringify(await offersMembers()) === JSON.stringify(await segmentationMembers()), {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: "offers' read model equal to segmentation's members",
  });
  expect(await segmentationMembers()).toEqual([first.profileId]);
  const theirs = await offersFor(twice);
  expect(theirs).toMatchObject({ profileId: otherProfileId, offers: [] });

  // Checkout: the fan redeems the code on an 899.00 EUR camera order: 89.90 EUR off.
  const order = { offerKey: OFFER_KEY, profileId: first.profileId, code, orderId: 'order-1001', orderAmount: { amount: 89_900, currency: 'EUR' } };
  const redeemed = await redeem(order);
  expect([redeemed.status, redeemed.body]).toEqual([
    201,
    expect.objectContaining({ offerKey: OFFER_KEY, profileId: first.profileId, code, status: 'redeemed', reward: { type: 'percent_off', value: 8990, currency: 'EUR' } }),
  ]);

  // A second use of the code, as another request, is refused.
  const secondUse = await redeem({ ...order, orderId: 'order-1002' });
  expect([secondUse.status, secondUse.body.details]).toEqual([409, [{ field: 'code', problem: 'code already redeemed' }]]);
  expect((await request(offers.url).get(`/v1/offers/${OFFER_KEY}/codes`).set(platform.admin).expect(200)).body.counts).toMatchObject({ available: 19, redeemed: 1 });
});
