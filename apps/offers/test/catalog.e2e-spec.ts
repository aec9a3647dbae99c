import { JSONCodec, connect, type NatsConnection, type Subscription } from 'nats';
import request from 'supertest';
import { API_KEYS_BUCKET, ApiKeyRegistry, ApiKeysService, issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import type { KeyValueBucket } from '@segmenta/messaging';
import { SUBJECTS, type Envelope, type SegmentReferencesV1 } from '@segmenta/contracts';
import { waitFor } from '@segmenta/infra';
import { availableTestDrivers } from '@segmenta/persistence';
import { OfferSchedule } from '../src/catalog/offer-schedule.service';
import { startOffers } from '../src/start';

/** The offer catalog against real NATS and PostgreSQL (and PGlite): CRUD, transitions, audit, coupon pools, segment references. */
jest.setTimeout(60_000);

const ADMIN = 'offers-e2e-admin-key-0123456789';
const codec = JSONCodec<Envelope<SegmentReferencesV1>>();

const camerasOffer = (key: string, overrides: Record<string, unknown> = {}) => ({
  key,
  name: '10% off cameras',
  description: 'Take 10% off any camera this weekend.',
  reward: { type: 'percent_off', percent: 10 },
  categories: ['cameras'],
  placements: ['home_banner', 'checkout'],
  priority: 5,
  startsAt: '2030-11-27T00:00',
  endsAt: '2030-11-30T23:59',
  timeZone: 'Europe/Berlin',
  eligibility: { segments: { anyOf: ['camera-intent'], noneOf: ['rfm-lost'] }, lifecycleStages: ['at_risk'] },
  budget: { type: 'amount', amount: 500_000, currency: 'EUR' },
  perCustomerLimit: { count: 1, periodDays: 30 },
  coupons: { type: 'none' },
  ...overrides,
});

describe.each(availableTestDrivers())('offer catalog (%s)', (driver) => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  let sub: Subscription;
  let readKey: string;
  const admin = { Authorization: `Bearer ${ADMIN}` };
  const references: SegmentReferencesV1[] = [];
  const referencesOf = (ownerId: string) => references.filter((r) => r.ownerId === ownerId);

  beforeAll(async () => {
    // The schedule runs when a test asks (OfferSchedule.apply), not every minute.
    service = await startServiceUnderTest(startOffers, { label: 'offcat', driver, env: { ADMIN_API_KEY: ADMIN, OFFERS_SCHEDULE_CRON: '0 0 1 1 *' } });
    http = request(service.app.getHttpServer());
    readKey = (await issueTestApiKeys(service.app)).read;
    nc = await connect({ servers: service.natsUrl });
    sub = nc.subscribe(`${service.prefix}.${SUBJECTS.offersSegmentReferences}`);
    void (async () => {
      for await (const msg of sub) references.push(codec.decode(msg.data).data);
    })();
    await nc.flush();
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  it('creates a draft with the window resolved in its zone, reads it back, lists it by status and placement, and a read key may read but not write', async () => {
    const created = (await http.post('/v1/offers').set(admin).send(camerasOffer('cameras-10')).expect(201)).body;
    expect(created).toMatchObject({
      key: 'cameras-10',
      status: 'draft',
      revision: 1,
      startsAt: '2030-11-27T00:00:00',
      startsAtUtc: '2030-11-26T23:00:00.000Z',
      endsAtUtc: '2030-11-30T22:59:00.000Z',
      budget: { type: 'amount', amount: 500_000, currency: 'EUR', used: 0 },
      perCustomerLimit: { count: 1, periodDays: 30 },
      categories: ['cameras'],
    });
    const read = { Authorization: `Bearer ${readKey}` };
    expect((await http.get('/v1/offers/cameras-10').set(read).expect(200)).body).toEqual(created);
    await http.post('/v1/offers').set(read).send(camerasOffer('by-reader')).expect(403);
    await http.post('/v1/offers').set(admin).send(camerasOffer('cameras-10')).expect(409);

    await http
      .post('/v1/offers')
      .set(admin)
      .send(camerasOffer('email-gift', { placements: ['email'], reward: { type: 'gift', description: 'A tote bag' }, eligibility: {} }))
      .expect(201);
    const byPlacement = (await http.get('/v1/offers').query({ placement: 'checkout' }).set(read).expect(200)).body;
    expect(byPlacement.offers.map((o: { key: string }) => o.key)).toEqual(['cameras-10']);
    const unknownPlacement = (await http.get('/v1/offers').query({ placement: 'billboard' }).set(read).expect(400)).body;
    expect(unknownPlacement.details).toEqual([{ field: 'placement', problem: 'is not a known placement (allowed: home_banner, checkout, email, app_inbox, product_page)' }]);

    const first = (await http.get('/v1/offers').query({ status: 'draft', limit: 1 }).set(read).expect(200)).body;
    expect(first.offers.map((o: { key: string }) => o.key)).toEqual(['cameras-10']);
    const second = (await http.get('/v1/offers').query({ status: 'draft', limit: 1, cursor: first.nextCursor }).set(read).expect(200)).body;
    expect(second).toMatchObject({ offers: [{ key: 'email-gift' }], nextCursor: null });
    expect((await http.get('/v1/offers').query({ status: 'active' }).set(read).expect(200)).body.offers).toEqual([]);
  });

  it('refuses wrong input with a 400 naming each field precisely, and stores nothing', async () => {
    const cases: Array<[Record<string, unknown>, Array<{ field: string; problem?: string }>]> = [
      [{ reward: { type: 'percent_off', percent: 120 } }, [{ field: 'reward.percent', problem: 'must be a number above 0 and at most 100' }]],
      [{ reward: { type: 'amount_off', amount: 9.99, currency: 'EURO' } }, [{ field: 'reward.amount' }, { field: 'reward.currency' }]],
      [{ reward: { type: 'points_multiplier', multiplier: 1 } }, [{ field: 'reward.multiplier' }]],
      [{ placements: ['checkout', 'billboard'] }, [{ field: 'placements[1]', problem: 'is not a known placement (allowed: home_banner, checkout, email, app_inbox, product_page)' }]],
      [{ timeZone: 'Europe/Atlantis' }, [{ field: 'timeZone' }]],
      [{ endsAt: '2030-11-26T23:00' }, [{ field: 'endsAt', problem: 'must be after startsAt (2030-11-27T00:00 in Europe/Berlin)' }]],
      [{ startsAt: '2030-03-31T02:30', endsAt: null }, [{ field: 'startsAt' }]],
      [{ eligibility: { lifecycleStages: ['sleepy'] } }, [{ field: 'eligibility.lifecycleStages[0]' }]],
      [{ budget: { type: 'redemptions', limit: 0 } }, [{ field: 'budget.limit' }]],
      [{ perCustomerLimit: { count: 0 } }, [{ field: 'perCustomerLimit.count' }]],
      [{ coupons: { type: 'shared' } }, [{ field: 'coupons.code' }]],
      [{ key: 'Not A Slug' }, [{ field: 'key' }]],
    ];
    for (const [overrides, details] of cases) {
      const body = (await http.post('/v1/offers').set(admin).send(camerasOffer('refused', overrides)).expect(400)).body;
      expect({ overrides, details: body.details }).toEqual({ overrides, details: details.map((d) => expect.objectContaining(d)) });
    }
    await http.get('/v1/offers/refused').set(admin).expect(404);
  });

  it('updates with PATCH, audits each change with the key id and the diff, and announces the references with a growing revision', async () => {
    const offer = (await http.post('/v1/offers').set(admin).send(camerasOffer('audited')).expect(201)).body;
    await waitFor(() => referencesOf(offer.id).length === 1, { timeoutMs: 10_000, what: 'references after create' });
    expect(referencesOf(offer.id)[0]).toEqual({
      service: 'offers',
      ownerKind: 'offer',
      ownerId: offer.id,
      ownerName: '10% off cameras',
      segmentKeys: ['camera-intent', 'lifecycle-at-risk', 'rfm-lost'],
      revision: 1,
    });

    const updated = (
      await http
        .patch('/v1/offers/audited')
        .set(admin)
        .send({ priority: 9, eligibility: { segments: { allOf: ['vip'] }, tiers: ['gold'] } })
        .expect(200)
    ).body;
    expect(updated).toMatchObject({ priority: 9, revision: 2, eligibility: { segments: { allOf: ['vip'] }, tiers: ['gold'] } });
    await waitFor(() => referencesOf(offer.id).length === 2, { timeoutMs: 10_000, what: 'references after update' });
    expect(referencesOf(offer.id)[1]).toMatchObject({ segmentKeys: ['vip'], revision: 2 });

    // Refused edits change nothing.
    expect((await http.patch('/v1/offers/audited').set(admin).send({ key: 'renamed' }).expect(400)).body.details[0].field).toBe('key');
    expect((await http.patch('/v1/offers/audited').set(admin).send({ endsAt: '2030-01-01T00:00' }).expect(400)).body.details).toEqual([
      { field: 'endsAt', problem: 'must be after startsAt (2030-11-27T00:00:00 in Europe/Berlin)' },
    ]);

    await http.post('/v1/offers/audited/status').set(admin).send({ status: 'scheduled' }).expect(200);
    const history = (
      await http
        .get('/v1/offers/audited/history')
        .set({ Authorization: `Bearer ${readKey}` })
        .expect(200)
    ).body;
    expect(history.changes.map((c: { action: string }) => c.action)).toEqual(['status_changed', 'updated', 'created']);
    expect(history.changes.every((c: { actor: string }) => c.actor === 'ADMIN_API_KEY')).toBe(true);
    expect(history.changes[0].changes).toEqual({ status: { from: 'draft', to: 'scheduled' } });
    expect(history.changes[1].changes).toEqual({
      priority: { from: 5, to: 9 },
      eligibility: { from: { segments: { anyOf: ['camera-intent'], noneOf: ['rfm-lost'] }, lifecycleStages: ['at_risk'] }, to: { segments: { allOf: ['vip'] }, tiers: ['gold'] } },
    });
    expect(history.changes[2].changes.reward).toEqual({ from: null, to: { type: 'percent_off', percent: 10 } });
    const paged = (await http.get('/v1/offers/audited/history').query({ limit: 2 }).set(admin).expect(200)).body;
    const rest = (await http.get('/v1/offers/audited/history').query({ limit: 2, cursor: paged.nextCursor }).set(admin).expect(200)).body;
    expect([...paged.changes, ...rest.changes].map((c: { seq: number }) => c.seq)).toEqual(history.changes.map((c: { seq: number }) => c.seq));
    expect(rest.nextCursor).toBeNull();
  });

  it('names the caller of a change by its own API key id', async () => {
    const { record, secret } = await new ApiKeysService(service.app.get<KeyValueBucket>(API_KEYS_BUCKET), service.app.get(ApiKeyRegistry)).create({ name: 'campaign manager', scopes: ['admin'] });
    await http
      .post('/v1/offers')
      .set({ Authorization: `Bearer ${secret}` })
      .send(camerasOffer('by-manager'))
      .expect(201);
    const history = (await http.get('/v1/offers/by-manager/history').set(admin).expect(200)).body;
    expect(history.changes[0]).toMatchObject({ action: 'created', actor: record.id });
  });

  it('allows only the documented transitions; a refused one is a 409 naming the allowed targets', async () => {
    await http.post('/v1/offers').set(admin).send(camerasOffer('lifecycle')).expect(201);
    const move = (status: string, expected: number) => http.post('/v1/offers/lifecycle/status').set(admin).send({ status }).expect(expected);
    expect((await move('paused', 409)).body.message).toBe('Offer "lifecycle" is draft; it cannot become paused. Allowed from draft: scheduled, active');
    await move('active', 200);
    expect((await move('draft', 409)).body.details).toEqual([{ field: 'status', problem: 'active → draft is not allowed (allowed: paused, ended)' }]);
    await move('paused', 200);
    await move('active', 200);
    await move('ended', 200);
    expect((await move('active', 409)).body.message).toBe('Offer "lifecycle" is ended; it cannot become active. ended is final');
    expect((await http.patch('/v1/offers/lifecycle').set(admin).send({ priority: 1 }).expect(409)).body.message).toMatch(/ended offers are final/);
    expect((await move('sleeping', 400)).body.details[0].field).toBe('status');
  });

  it('moves offers by their windows: scheduled → active when the start comes, → ended when the end passes, audited as the schedule', async () => {
    const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    const now = Date.now();
    await http
      .post('/v1/offers')
      .set(admin)
      .send(camerasOffer('starts-now', { startsAt: utc(now - 3_600_000), endsAt: null, timeZone: 'UTC' }))
      .expect(201);
    await http.post('/v1/offers/starts-now/status').set(admin).send({ status: 'scheduled' }).expect(200);
    const endsAt = now + 2_000;
    await http
      .post('/v1/offers')
      .set(admin)
      .send(camerasOffer('ends-soon', { startsAt: utc(now - 3_600_000), endsAt: utc(endsAt), timeZone: 'UTC' }))
      .expect(201);
    await http.post('/v1/offers/ends-soon/status').set(admin).send({ status: 'active' }).expect(200);
    const schedule = service.app.get(OfferSchedule);

    expect(await schedule.apply()).toEqual([{ key: 'starts-now', to: 'active' }]);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.ceil(endsAt / 1000) * 1000 - Date.now()) + 100));
    expect(await schedule.apply()).toEqual([{ key: 'ends-soon', to: 'ended' }]);
    expect(await schedule.apply()).toEqual([]);
    for (const [key, status] of [
      ['starts-now', 'active'],
      ['ends-soon', 'ended'],
    ]) {
      expect((await http.get(`/v1/offers/${key}`).set(admin).expect(200)).body.status).toBe(status);
      expect((await http.get(`/v1/offers/${key}/history`).set(admin).expect(200)).body.changes[0]).toMatchObject({ action: 'status_changed', actor: 'schedule' });
    }
  });

  it('deletes drafts only (announcing no references), and keeps their history', async () => {
    const draft = (await http.post('/v1/offers').set(admin).send(camerasOffer('short-lived')).expect(201)).body;
    await http.post('/v1/offers/short-lived/status').set(admin).send({ status: 'scheduled' }).expect(200);
    expect((await http.delete('/v1/offers/short-lived').set(admin).expect(409)).body.message).toMatch(/only drafts can be deleted. End it instead/);
    await http.post('/v1/offers/short-lived/status').set(admin).send({ status: 'draft' }).expect(200);
    await http.delete('/v1/offers/short-lived').set(admin).expect(200);
    await http.get('/v1/offers/short-lived').set(admin).expect(404);
    await waitFor(() => referencesOf(draft.id).some((r) => r.segmentKeys.length === 0), { timeoutMs: 10_000, what: 'empty references after delete' });
    const last = referencesOf(draft.id).at(-1);
    expect(last).toMatchObject({ segmentKeys: [], revision: 4 });
    expect(referencesOf(draft.id).map((r) => r.revision)).toEqual([1, 2, 3, 4]);
  });

  it('generates unique codes (a retry with the same idempotency key adds none), uploads JSON and CSV all or nothing, and counts the pool', async () => {
    await http
      .post('/v1/offers')
      .set(admin)
      .send(camerasOffer('pool', { coupons: { type: 'unique' } }))
      .expect(201);
    expect((await http.post('/v1/offers/pool/status').set(admin).send({ status: 'active' }).expect(409)).body.message).toMatch(/has none available; add codes first/);

    const generated = (
      await http
        .post('/v1/offers/pool/codes')
        .set(admin)
        .send({ generate: { count: 500, prefix: 'bf26-', length: 8 }, idempotencyKey: 'batch-1' })
        .expect(201)
    ).body;
    expect(generated).toMatchObject({ added: 500, source: 'generated', replayed: false, counts: { available: 500, total: 500 } });
    const retried = (
      await http
        .post('/v1/offers/pool/codes')
        .set(admin)
        .send({ generate: { count: 500, prefix: 'bf26-', length: 8 }, idempotencyKey: 'batch-1' })
        .expect(201)
    ).body;
    expect(retried).toMatchObject({ added: 500, replayed: true, counts: { total: 500 } });

    const page = (
      await http
        .get('/v1/offers/pool/codes')
        .query({ limit: 300 })
        .set({ Authorization: `Bearer ${readKey}` })
        .expect(200)
    ).body;
    expect(page.codes).toHaveLength(300);
    expect(page.codes.every((c: { code: string }) => /^BF26-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$/.test(c.code))).toBe(true);
    const next = (await http.get('/v1/offers/pool/codes').query({ limit: 300, cursor: page.nextCursor }).set(admin).expect(200)).body;
    expect(next.nextCursor).toBeNull();
    const all = [...page.codes, ...next.codes].map((c: { code: string }) => c.code);
    expect(new Set(all).size).toBe(500);

    const taken = all[0];
    const refused = (
      await http
        .post('/v1/offers/pool/codes')
        .set(admin)
        .send({ codes: ['SPRING-AAA1', 'spring-aaa1', 'no', taken, 'SPRING-BBB2'] })
        .expect(400)
    ).body;
    expect(refused.details).toEqual([
      { field: 'codes[1]', problem: 'duplicates codes[0] (SPRING-AAA1)' },
      { field: 'codes[2]', problem: 'must be 3 to 64 letters, digits, - or _, starting with a letter or digit' },
      { field: 'codes[3]', problem: `${taken} is already in this offer's pool` },
    ]);
    const csvRefused = (await http.post('/v1/offers/pool/codes').set(admin).set('Content-Type', 'text/csv').send('code,note\nCSV-0001,a\nCSV-0002,b\nCSV-0001,c\n').expect(400)).body;
    expect(csvRefused.details).toEqual([{ field: 'line 4', problem: 'duplicates line 2 (CSV-0001)' }]);
    expect((await http.get('/v1/offers/pool/codes').set(admin).expect(200)).body.counts).toEqual({ available: 500, reserved: 0, redeemed: 0, total: 500 });

    await http
      .post('/v1/offers/pool/codes')
      .set(admin)
      .send({ codes: ['SPRING-AAA1', 'SPRING-BBB2'] })
      .expect(201);
    const csv = (await http.post('/v1/offers/pool/codes').set(admin).set('Content-Type', 'text/csv').send('code,note\nCSV-0001,a\r\nCSV-0002,b\n').expect(201)).body;
    expect(csv).toMatchObject({ added: 2, source: 'uploaded', counts: { available: 504, total: 504 } });
    await http.post('/v1/offers/pool/codes').set(admin).set('Content-Type', 'text/plain').send('TXT-0001\nTXT-0002\n').expect(201);

    expect(
      (
        await http
          .post('/v1/offers/pool/codes')
          .set(admin)
          .send({ generate: { count: 1000, length: 6 } })
          .expect(400)
      ).body.details[0].field,
    ).toBe('generate.length');
    expect((await http.post('/v1/offers/pool/codes').set(admin).send({}).expect(400)).body.details[0].field).toBe('generate');
    expect(
      (
        await http
          .post('/v1/offers/cameras-10/codes')
          .set(admin)
          .send({ codes: ['X-1234'] })
          .expect(409)
      ).body.details,
    ).toEqual([{ field: 'coupons.type', problem: 'is none, not unique' }]);

    await http.post('/v1/offers/pool/status').set(admin).send({ status: 'active' }).expect(200);
    const history = (await http.get('/v1/offers/pool/history').set(admin).expect(200)).body.changes as Array<{ action: string; changes: unknown }>;
    expect(history.filter((c) => c.action === 'codes_added').map((c) => c.changes)).toEqual([
      { codes: { from: 504, to: 506 } },
      { codes: { from: 502, to: 504 } },
      { codes: { from: 500, to: 502 } },
      { codes: { from: 0, to: 500 } },
    ]);
  });
});
