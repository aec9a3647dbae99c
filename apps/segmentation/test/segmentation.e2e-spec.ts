import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection, type Subscription } from 'nats';
import request from 'supertest';
import { SUBJECTS, type LoyaltyTierChangedV1, type Envelope, type ProfileActivityV1, type ProfileUpdatedV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { sql } from 'drizzle-orm';
import { availableTestDrivers, queryRows } from '@segmenta/persistence';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { Clock } from '../src/membership/clock';
import { MembershipRepository } from '../src/membership/membership.repository';
import { MembershipService, emptyTouch } from '../src/membership/membership.service';
import { SegmentsLifecycle } from '../src/segments/segments-lifecycle.service';
import { startSegmentation } from '../src/start';

/** Segmentation against real NATS and PostgreSQL, fed PROFILES messages as profiles publishes them. */
jest.setTimeout(60_000);

const ADMIN = 'segmentation-e2e-admin-key-0123456789';
const DAY = 86_400_000;
const codec = JSONCodec<Envelope>();

describe.each(availableTestDrivers())('segmentation (%s)', (driver) => {
  let service: ServiceUnderTest;
  let nc: NatsConnection;
  let sub: Subscription;
  let http: ReturnType<typeof request>;
  const auth = { Authorization: `Bearer ${ADMIN}` };
  const received: Array<{ subject: string; data: SegmentMembershipChangedV1; at: number }> = [];

  const publish = async (subject: string, data: unknown) => {
    await nc.jetstream().publish(`${service.prefix}.${subject}`, codec.encode(createEnvelope(subject, data)));
  };
  const updated = (profileId: string, traits: Record<string, unknown>, features: Record<string, unknown>, full = true): ProfileUpdatedV1 => ({
    profileId,
    traits,
    features,
    full,
    updatedAt: new Date().toISOString(),
  });
  const viewed = (profileId: string, category: string, at: number): ProfileActivityV1 => ({
    profileId,
    eventId: randomUUID(),
    type: 'track',
    name: 'Product Viewed',
    properties: { category },
    traits: {},
    occurredAt: new Date(at).toISOString(),
  });
  const changesFor = (profileId: string, key: string) => received.filter((m) => m.data.profileId === profileId && m.data.segmentKey === key);

  beforeAll(async () => {
    service = await startServiceUnderTest(startSegmentation, { label: 'seg', driver, env: { ADMIN_API_KEY: ADMIN, LOG_LEVEL: 'warn' } });
    http = request(service.app.getHttpServer());
    nc = await connect({ servers: service.natsUrl });
    sub = nc.subscribe(`${service.prefix}.segments.>`);
    void (async () => {
      for await (const msg of sub) {
        const envelope = codec.decode(msg.data);
        if (envelope.type !== SUBJECTS.segmentsChanged) received.push({ subject: envelope.type, data: envelope.data as SegmentMembershipChangedV1, at: Date.now() });
      }
    })();
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  it('starts with the built-in RFM grid and lifecycle segments', async () => {
    const list = (await http.get('/v1/segments').set(auth).expect(200)).body as Array<{ key: string; kind: string; freshness: { target: string } }>;
    const keys = list.map((s) => s.key);
    expect(keys).toEqual(expect.arrayContaining(['rfm-champions', 'rfm-cant-lose-them', 'rfm-lost', 'lifecycle-new', 'lifecycle-at-risk']));
    expect(list.filter((s) => s.kind === 'rfm')).toHaveLength(11);
    expect(list.filter((s) => s.kind === 'lifecycle')).toHaveLength(6);
    expect(list.find((s) => s.key === 'lifecycle-new')?.freshness.target).toBe('real-time');
  });

  it('places customers in the RFM grid and lifecycle stages by their scores; members page by cursor; a recompute finds nothing new', async () => {
    const champions = Array.from({ length: 5 }, () => randomUUID());
    const lost = randomUUID();
    for (const [i, id] of champions.entries()) await publish(SUBJECTS.profilesUpdated, updated(id, {}, { rfm_r: 5, rfm_f: 4 + (i % 2), lifecycle_stage: 'loyal' }));
    await publish(SUBJECTS.profilesUpdated, updated(lost, {}, { rfm_r: 1, rfm_f: 1, lifecycle_stage: 'lapsed' }));
    await waitFor(() => changesFor(lost, 'lifecycle-lapsed').length === 1 && champions.every((id) => changesFor(id, 'rfm-champions').length === 1), { timeoutMs: 15_000, what: 'grid placement' });

    expect((await http.get(`/v1/profiles/${lost}/segments`).set(auth).expect(200)).body.segments.map((s: { key: string }) => s.key).sort()).toEqual(['lifecycle-lapsed', 'rfm-lost']);
    expect((await http.get(`/v1/profiles/${champions[0]}/segments`).set(auth).expect(200)).body.segments.map((s: { key: string }) => s.key).sort()).toEqual(['lifecycle-loyal', 'rfm-champions']);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { members: Array<{ profileId: string }>; nextCursor: string | null } = (
        await http
          .get('/v1/segments/rfm-champions/members')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set(auth)
          .expect(200)
      ).body;
      expect(page.members.length).toBeLessThanOrEqual(2);
      seen.push(...page.members.map((m) => m.profileId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...champions].sort());
    expect((await http.get('/v1/segments/rfm-champions/members').query({ cursor: 'x' }).set(auth).expect(400)).body.details).toEqual([{ field: 'cursor', problem: 'invalid' }]);

    const history = (await http.get('/v1/segments/rfm-champions/history').set(auth).expect(200)).body.days as Array<{ day: string; size: number }>;
    expect(history[history.length - 1].size).toBe(5);
    const before = received.length;
    expect((await http.post('/v1/segments/recompute').set(auth).expect(200)).body).toMatchObject({ entered: 0, exited: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.length).toBe(before);
  });

  it('keeps a deleted built-in segment deleted when the service starts again', async () => {
    await http.delete('/v1/segments/rfm-about-to-sleep').set(auth).expect(200);
    const builtins = async (server: Parameters<typeof request>[0]) =>
      ((await request(server).get('/v1/segments').set(auth).expect(200)).body as Array<{ key: string }>).map((s) => s.key).filter((k) => k.startsWith('rfm-'));
    // What every start does, in this process (on either driver)…
    expect(await service.app.get(SegmentsLifecycle).seedBuiltins()).toBe(0);
    expect(await builtins(service.app.getHttpServer())).toHaveLength(10);
    // …and a second process on the same database, where there is one to share (PGlite lives inside its process).
    if (driver === 'pglite') return;
    const again = await startSegmentation(
      { PORT: '0', NATS_URL: service.natsUrl, NATS_PREFIX: service.prefix, DATABASE_URL: service.database.url, DATA_DIR: 'memory://', LOG_LEVEL: 'fatal', ADMIN_API_KEY: ADMIN },
      () => undefined,
    );
    try {
      const keys = await builtins(again.getHttpServer());
      expect(keys).toContain('rfm-champions');
      expect(keys).not.toContain('rfm-about-to-sleep');
      expect(keys).toHaveLength(10);
    } finally {
      await again.close();
    }
  });

  it('puts a customer who views cameras three times in a week into "camera intent" within a second, and time passing takes them out', async () => {
    const created = await http
      .post('/v1/segments')
      .set(auth)
      .send({
        key: 'camera-intent',
        name: 'Camera intent',
        definition: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 3 }, within: 'P7D' },
      })
      .expect(201);
    expect(created.body).toMatchObject({ key: 'camera-intent', version: 1, size: 0, freshness: { target: 'scheduled' } });

    const ann = randomUUID();
    const now = Date.now();
    await publish(SUBJECTS.profilesUpdated, updated(ann, { email: 'ann@example.com' }, { orders: 0 }));
    await publish(SUBJECTS.profilesActivity, viewed(ann, 'cameras', now - 5 * DAY));
    await publish(SUBJECTS.profilesActivity, viewed(ann, 'lenses', now - 2 * DAY));
    await publish(SUBJECTS.profilesActivity, viewed(ann, 'cameras', now - DAY));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changesFor(ann, 'camera-intent')).toEqual([]);
    const sentAt = Date.now();
    await publish(SUBJECTS.profilesActivity, viewed(ann, 'cameras', now));
    await waitFor(() => changesFor(ann, 'camera-intent').length > 0, { timeoutMs: 1000, intervalMs: 10, what: 'segments.entered for camera-intent within a second' });
    const entered = changesFor(ann, 'camera-intent')[0];
    expect(entered.subject).toBe('segments.entered');
    expect(entered.at - sentAt).toBeLessThan(1000);

    const members = (await http.get('/v1/segments/camera-intent/members').set(auth).expect(200)).body;
    expect(members.members.map((m: { profileId: string }) => m.profileId)).toEqual([ann]);
    expect((await http.get(`/v1/profiles/${ann}/segments`).set(auth).expect(200)).body.segments.map((s: { key: string }) => s.key)).toContain('camera-intent');

    // Six days later the oldest camera view (now − 5 days) is outside the week: the schedule's pass takes Ann out.
    service.app.get(Clock).advance(6 * DAY);
    const summary = (await http.post('/v1/segments/recompute').set(auth).expect(200)).body;
    expect(summary.exited).toBeGreaterThanOrEqual(1);
    // By default only profiles with a fact that crossed a window since the last pass are evaluated (ADR 19)…
    expect(summary.mode).toBe('since-last');
    expect(summary.evaluated).toBeGreaterThanOrEqual(1);
    expect(summary.evaluated).toBeLessThan(summary.profiles);
    // …and a full pass right after finds nothing it missed.
    expect((await http.post('/v1/segments/recompute?full=true').set(auth).expect(200)).body).toMatchObject({ mode: 'full', entered: 0, exited: 0 });
    await http.post('/v1/segments/recompute?full=yes').set(auth).expect(400);
    await waitFor(() => changesFor(ann, 'camera-intent').some((c) => c.subject === 'segments.exited'), { timeoutMs: 15_000, what: 'segments.exited' });
    expect((await http.get('/v1/segments/camera-intent/members').set(auth).expect(200)).body.members).toEqual([]);

    // The change log replays both, numbered; a consumer that saw the first catches up exactly from its seq.
    const log = (await http.get('/v1/segments/camera-intent/changes').set(auth).expect(200)).body;
    expect(log.changes.map((c: { change: string; profileId: string }) => [c.change, c.profileId])).toEqual([
      ['entered', ann],
      ['exited', ann],
    ]);
    const after = (await http.get(`/v1/segments/camera-intent/changes?after=${log.changes[0].seq}`).set(auth).expect(200)).body;
    expect(after.changes).toHaveLength(1);
    expect(after.changes[0].seq).toBe(changesFor(ann, 'camera-intent')[1].data.seq);
  });

  it("takes offers' loyalty tier as the trait loyalty_tier for rules, kept across a full profile update", async () => {
    const [gold, later] = [randomUUID(), randomUUID()];
    await http
      .post('/v1/segments')
      .set(auth)
      .send({ key: 'gold-members', name: 'Gold members', definition: { trait: 'loyalty_tier', op: 'eq', value: 'gold' } })
      .expect(201);
    await publish(SUBJECTS.profilesUpdated, updated(gold, { country: 'IT' }, { orders: 3 }));
    const tier = (profileId: string, from: string | null, to: string | null): LoyaltyTierChangedV1 => ({
      profileId,
      from,
      to,
      direction: to === null ? 'downgrade' : 'upgrade',
      at: new Date().toISOString(),
    });
    await publish(SUBJECTS.loyaltyTierChanged, tier(gold, 'silver', 'gold'));
    // A tier for a profile segmentation has not heard of yet: it enters on the trait alone.
    await publish(SUBJECTS.loyaltyTierChanged, tier(later, null, 'gold'));
    await waitFor(() => changesFor(gold, 'gold-members').length === 1 && changesFor(later, 'gold-members').length === 1, { timeoutMs: 15_000, what: 'gold members entered' });
    // A full update from profiles (which does not know the tier) keeps it; a lower tier takes them out.
    await publish(SUBJECTS.profilesUpdated, updated(gold, { country: 'ES' }, { orders: 4 }));
    await publish(SUBJECTS.profilesUpdated, updated(later, { country: 'FR' }, { orders: 1 }));
    await publish(SUBJECTS.loyaltyTierChanged, tier(later, 'gold', 'silver'));
    await waitFor(() => changesFor(later, 'gold-members').length === 2, { timeoutMs: 15_000, what: 'the downgraded customer exited' });
    expect(changesFor(gold, 'gold-members').map((c) => c.subject)).toEqual(['segments.entered']);
    expect(changesFor(later, 'gold-members').map((c) => c.subject)).toEqual(['segments.entered', 'segments.exited']);
    await http.delete('/v1/segments/gold-members').set(auth).expect(200);
  });

  it('re-evaluates only what an update can affect, and an edit raises the version and emits the differences', async () => {
    const [de, at] = [randomUUID(), randomUUID()];
    await http
      .post('/v1/segments')
      .set(auth)
      .send({ key: 'dach', name: 'DACH', definition: { trait: 'country', op: 'in', value: ['DE', 'AT', 'CH'] } })
      .expect(201);
    await http
      .post('/v1/segments')
      .set(auth)
      .send({ key: 'dach-buyers', name: 'DACH buyers', definition: { all: [{ inSegment: 'dach' }, { feature: 'orders', op: 'gte', value: 1 }] } })
      .expect(201);
    await publish(SUBJECTS.profilesUpdated, updated(de, { country: 'DE' }, { orders: 2 }));
    await publish(SUBJECTS.profilesUpdated, updated(at, { country: 'AT' }, { orders: 0 }));
    await waitFor(() => changesFor(de, 'dach-buyers').length === 1 && changesFor(at, 'dach').length === 1, { timeoutMs: 15_000, what: 'dach and dach-buyers' });
    expect(changesFor(at, 'dach-buyers')).toEqual([]);
    // A changed feature: the membership that reads it follows.
    await publish(SUBJECTS.profilesUpdated, updated(at, {}, { orders: 1 }, false));
    await waitFor(() => changesFor(at, 'dach-buyers').length === 1, { timeoutMs: 15_000, what: 'AT customer enters dach-buyers' });

    const edited = (
      await http
        .put('/v1/segments/dach')
        .set(auth)
        .send({ definition: { trait: 'country', op: 'eq', value: 'DE' } })
        .expect(200)
    ).body;
    expect(edited).toMatchObject({ version: 2, size: 1, evaluation: { entered: 0, exited: 1 } });
    await waitFor(() => changesFor(at, 'dach').some((c) => c.subject === 'segments.exited' && c.data.segmentVersion === 2), { timeoutMs: 15_000, what: 'exit at version 2' });

    const overlap = (await http.get('/v1/segments/overlap?segments=dach,dach-buyers').set(auth).expect(200)).body;
    expect(overlap.pairs[0]).toMatchObject({ a: 'dach', b: 'dach-buyers', both: 1 });

    // A change someone else (a recompute racing a batch) already applied is neither applied nor logged again.
    const repository = service.app.get(MembershipRepository);
    const dach = (await http.get('/v1/segments/dach').set(auth).expect(200)).body as { id: string; version: number };
    const before = (await http.get('/v1/segments/dach/changes').set(auth).expect(200)).body.changes.length;
    const again = await repository.database.db.transaction((tx) =>
      repository.record(
        tx,
        [
          { segmentId: dach.id, profileId: de, change: 'entered', segmentVersion: dach.version },
          { segmentId: dach.id, profileId: at, change: 'exited', segmentVersion: dach.version },
        ],
        new Date(),
      ),
    );
    expect(again).toEqual([]);
    expect((await http.get('/v1/segments/dach/changes').set(auth).expect(200)).body.changes).toHaveLength(before);
  });

  it('lists members and previews with the identifiers a marketer knows customers by, kept across partial updates', async () => {
    const ida = randomUUID();
    const bo = randomUUID();
    await http
      .post('/v1/segments')
      .set(auth)
      .send({ key: 'norway', name: 'Norway', definition: { trait: 'country', op: 'eq', value: 'NO' } })
      .expect(201);
    await publish(SUBJECTS.profilesUpdated, { ...updated(ida, { country: 'NO' }, {}), identifiers: { userId: 'ida-1', email: 'ida@example.no' } });
    await publish(SUBJECTS.profilesUpdated, { ...updated(bo, { country: 'NO' }, {}), identifiers: { userId: 'bo-2' } });
    await waitFor(() => changesFor(ida, 'norway').length === 1 && changesFor(bo, 'norway').length === 1, { timeoutMs: 15_000, what: 'Norway members' });
    // A partial update without identifiers keeps them; one that brings an e-mail adds it (no orders: discovery below counts buyers).
    await publish(SUBJECTS.profilesUpdated, updated(ida, {}, { loyalty_points: 10 }, false));
    // The device ids that come along (for offers' ?anonymousId=) stay out of member lists.
    await publish(SUBJECTS.profilesUpdated, { ...updated(bo, {}, { loyalty_points: 20 }, false), identifiers: { email: 'bo@example.no', anonymousIds: ['bo-phone'] } });
    const expected = [
      { profileId: ida, userId: 'ida-1', email: 'ida@example.no' },
      { profileId: bo, userId: 'bo-2', email: 'bo@example.no' },
    ].sort((a, b) => a.profileId.localeCompare(b.profileId));
    await waitFor(
      async () => {
        const members = (await http.get('/v1/segments/norway/members').set(auth).expect(200)).body.members as Array<Record<string, unknown>>;
        return JSON.stringify(members.map(({ profileId, userId, email }) => ({ profileId, userId, email }))) === JSON.stringify(expected);
      },
      { timeoutMs: 15_000, what: 'members with their identifiers' },
    );
    const preview = (
      await http
        .post('/v1/segments/preview')
        .set(auth)
        .send({ definition: { trait: 'country', op: 'eq', value: 'NO' }, sample: 5 })
        .expect(200)
    ).body;
    expect(preview.sample).toEqual(expected);
    const members = (await http.get('/v1/segments/norway/members').set(auth).expect(200)).body.members as Array<Record<string, unknown>>;
    expect(members.every((m) => !('anonymousIds' in m))).toBe(true);
  });

  it('previews a definition without saving it', async () => {
    const preview = (
      await http
        .post('/v1/segments/preview')
        .set(auth)
        .send({ definition: { trait: 'country', op: 'exists' }, sample: 5 })
        .expect(200)
    ).body;
    expect(preview.count).toBeGreaterThanOrEqual(2);
    expect(preview.sample.length).toBe(Math.min(5, preview.count));
    expect((await http.get('/v1/segments').set(auth).expect(200)).body.some((s: { key: string }) => s.key.startsWith('preview'))).toBe(false);
  });

  it('rejects bad definitions with the path of the bad node, and protects segments others read', async () => {
    const bad = await http
      .post('/v1/segments')
      .set(auth)
      .send({
        key: 'bad',
        name: 'Bad',
        definition: {
          all: [
            { trait: 'a', op: 'eq', value: 1 },
            { trait: 'b', op: 'eq', value: 2 },
            { event: 'E', where: [{ property: 'p', op: 'equals', value: 1 }] },
          ],
        },
      })
      .expect(400);
    expect(bad.body.details).toEqual([{ field: 'definition.all[2].where[0].op', problem: 'unknown operator "equals"' }]);
    expect(bad.body.message).toContain('all[2].where[0].op: unknown operator "equals"');
    expect(
      (
        await http
          .post('/v1/segments')
          .set(auth)
          .send({ key: 'x', name: 'X', definition: { inSegment: 'nope' } })
          .expect(400)
      ).body.message,
    ).toContain('unknown segment "nope"');
    expect(
      (
        await http
          .post('/v1/segments')
          .set(auth)
          .send({ key: 'dach', name: 'Again', definition: { trait: 'a', op: 'exists' } })
          .expect(409)
      ).body.details,
    ).toEqual([{ field: 'key', problem: 'already exists' }]);
    expect(
      (
        await http
          .put('/v1/segments/dach')
          .set(auth)
          .send({ definition: { inSegment: 'dach-buyers' } })
          .expect(400)
      ).body.message,
    ).toContain('dach → dach-buyers → dach');
    expect((await http.delete('/v1/segments/dach').set(auth).expect(409)).body.message).toBe('Segment "dach" is used by segment "dach-buyers"; change or delete it first');
    expect((await http.get('/v1/segments').expect(401)).status).toBe(401);
    expect((await http.get('/v1/segments').set(auth).expect(200)).body.some((s: { key: string }) => s.key === 'bad')).toBe(false);
  });

  it('refuses to delete a segment an offer or an experiment targets, until they let go of it', async () => {
    await http
      .post('/v1/segments')
      .set(auth)
      .send({ key: 'summer-vip', name: 'Summer VIP', definition: { feature: 'orders', op: 'gte', value: 10 } })
      .expect(201);
    const refs = (service: 'offers' | 'experiments', ownerKind: string, ownerId: string, ownerName: string, segmentKeys: string[], revision: number) => ({
      service,
      ownerKind,
      ownerId,
      ownerName,
      segmentKeys,
      revision,
    });
    await publish(SUBJECTS.offersSegmentReferences, refs('offers', 'offer', 'o-1', 'Summer VIP discount', ['summer-vip', 'dach'], 1));
    await publish(SUBJECTS.experimentsSegmentReferences, refs('experiments', 'experiment', 'e-1', 'checkout-copy', ['summer-vip'], 3));
    await waitFor(async () => ((await http.get('/v1/segments/summer-vip').set(auth)).body.usedBy ?? []).length === 2, { timeoutMs: 15_000, what: 'references recorded' });

    const refused = await http.delete('/v1/segments/summer-vip').set(auth).expect(409);
    expect(refused.body.message).toBe(
      'Segment "summer-vip" is targeted by experiment "checkout-copy" (experiments), offer "Summer VIP discount" (offers); remove it from them or pause the segment instead',
    );
    expect(refused.body.details).toEqual([
      { field: 'id', problem: 'used by experiments experiment e-1' },
      { field: 'id', problem: 'used by offers offer o-1' },
    ]);
    await http.get('/v1/segments/summer-vip').set(auth).expect(200);

    // A late, older revision does not bring a reference back; the offer's newer save releases the segment.
    await publish(SUBJECTS.offersSegmentReferences, refs('offers', 'offer', 'o-1', 'Summer VIP discount', ['dach'], 2));
    await publish(SUBJECTS.experimentsSegmentReferences, refs('experiments', 'experiment', 'e-1', 'checkout-copy', [], 4));
    await publish(SUBJECTS.offersSegmentReferences, refs('offers', 'offer', 'o-1', 'Summer VIP discount', ['summer-vip'], 1));
    // One consumer applies OFFERS messages in order: once this one shows, the stale one was handled.
    await publish(SUBJECTS.offersSegmentReferences, refs('offers', 'journey', 'j-1', 'Welcome journey', ['dach'], 1));
    await waitFor(async () => ((await http.get('/v1/segments/dach').set(auth)).body.usedBy ?? []).length === 2, { timeoutMs: 15_000, what: 'sentinel reference' });
    expect((await http.get('/v1/segments/summer-vip').set(auth).expect(200)).body.usedBy).toEqual([]);
    expect((await http.get('/v1/segments/dach').set(auth).expect(200)).body.usedBy).toEqual([
      { service: 'offers', ownerKind: 'journey', ownerId: 'j-1', ownerName: 'Welcome journey' },
      { service: 'offers', ownerKind: 'offer', ownerId: 'o-1', ownerName: 'Summer VIP discount' },
    ]);
    expect((await http.delete('/v1/segments/summer-vip').set(auth).expect(200)).body).toEqual({ deleted: true, key: 'summer-vip' });
    await http.get('/v1/segments/summer-vip').set(auth).expect(404);
  });

  it('moves behaviour to the surviving profile on a merge, and the merged-away profile leaves its segments', async () => {
    const device = randomUUID();
    const customer = randomUUID();
    const now = service.app.get(Clock).now();
    await publish(SUBJECTS.profilesUpdated, updated(device, {}, {}));
    await publish(SUBJECTS.profilesUpdated, updated(customer, { country: 'DE' }, { orders: 0 }));
    for (const [id, days] of [
      [device, 1],
      [device, 2],
      [customer, 3],
    ] as const)
      await publish(SUBJECTS.profilesActivity, viewed(id, 'cameras', now - days * DAY));
    await waitFor(() => changesFor(customer, 'dach').length === 1, { timeoutMs: 15_000, what: 'customer in dach' });
    expect(changesFor(customer, 'camera-intent')).toEqual([]);
    await publish(SUBJECTS.profilesMerged, { fromProfileId: device, intoProfileId: customer, reason: 'identify', identifier: 'userId:u-1', mergedAt: new Date(now).toISOString() });
    await waitFor(() => changesFor(customer, 'camera-intent').length === 1, { timeoutMs: 15_000, what: 'merged views count for the customer' });
    expect(changesFor(customer, 'camera-intent')[0].subject).toBe('segments.entered');
    expect((await http.get(`/v1/profiles/${device}/segments`).set(auth).expect(200)).body.segments).toEqual([]);
  });

  it('takes an erased profile out of every segment', async () => {
    const gone = randomUUID();
    await publish(SUBJECTS.profilesUpdated, updated(gone, { country: 'DE' }, { orders: 3 }));
    await waitFor(() => changesFor(gone, 'dach').length === 1, { timeoutMs: 15_000, what: 'enters dach' });
    await publish(SUBJECTS.profilesErased, { profileId: gone, mergedProfileIds: [], erasedAt: new Date().toISOString() });
    await waitFor(() => changesFor(gone, 'dach').some((c) => c.subject === 'segments.exited') && changesFor(gone, 'dach-buyers').some((c) => c.subject === 'segments.exited'), {
      timeoutMs: 15_000,
      what: 'exits on erasure',
    });
    expect((await http.get(`/v1/profiles/${gone}/segments`).set(auth).expect(200)).body.segments).toEqual([]);
  });

  it('discovers micro-segments with names and persona cards, keeps them across runs and refuses to edit their rule', async () => {
    const groups = {
      vip: { orders: 20, revenue: 40_000, aov: 2_000, recency_days: 5, tenure_days: 700 },
      lapsing: { orders: 12, revenue: 40_000, aov: 3_300, recency_days: 300, tenure_days: 800 },
      newcomers: { orders: 1, revenue: 1_000, aov: 1_000, recency_days: 10, tenure_days: 12 },
    };
    const members = new Map<string, string[]>();
    let n = 0;
    for (const [group, centre] of Object.entries(groups)) {
      const ids = Array.from({ length: 40 }, () => randomUUID());
      members.set(group, ids);
      for (const id of ids) {
        n += 1;
        const jitter = 1 + (((n * 37) % 21) - 10) / 100; // ±10 %, deterministic
        const features = Object.fromEntries(Object.entries(centre).map(([k, v]) => [k, k === 'orders' ? v : Math.round(v * jitter)]));
        await publish(SUBJECTS.profilesUpdated, updated(id, {}, { ...features, lifecycle_stage: group === 'newcomers' ? 'new' : group === 'vip' ? 'loyal' : 'at_risk' }));
      }
    }
    const db = service.app.get(MembershipRepository).database.db;
    const all = [...members.values()].flat();
    await waitFor(
      async () =>
        (
          await queryRows<{ n: number }>(
            db,
            sql`select count(*)::int as n from segmentation.profile_view where profile_id = any(array(select json_array_elements_text(${JSON.stringify(all)}::json)::uuid))`,
          )
        )[0].n === all.length,
      { timeoutMs: 20_000, what: 'planted customers in the view' },
    );

    expect((await http.post('/v1/segments/discover').set(auth).send({ kMin: 1 }).expect(400)).body.details).toEqual([{ field: 'kMin', problem: 'must be at least 2' }]);
    const first = (await http.post('/v1/segments/discover').set(auth).send({ kMin: 2, kMax: 5, seed: 3 }).expect(200)).body;
    const clusterOf = async (id: string) =>
      ((await http.get(`/v1/profiles/${id}/segments`).set(auth).expect(200)).body.segments as Array<{ key: string; kind?: string }>).map((s) => s.key).filter((k) => k.startsWith('cluster-'));
    const keyOf = new Map<string, string>();
    for (const [group, ids] of members) {
      const keys = new Set((await Promise.all(ids.map(clusterOf))).flat());
      expect(keys.size).toBe(1); // a planted group stays together…
      keyOf.set(group, [...keys][0]);
    }
    expect(new Set(keyOf.values()).size).toBe(3); // …and apart from the others
    const segmentOf = (group: string) => first.segments.find((s: { key: string }) => s.key === keyOf.get(group));
    expect(segmentOf('lapsing').name).toMatch(/lapsing/i);
    expect(segmentOf('newcomers').name).toMatch(/^New/);
    expect(segmentOf('lapsing').persona.treatment.kind).toBe('win-back');
    expect(segmentOf('newcomers').persona.treatment.kind).toBe('onboarding');
    for (const s of first.segments) expect(s.name).not.toMatch(/cluster \d/i);
    const vip = (
      await http
        .get(`/v1/segments/${keyOf.get('vip')}`)
        .set(auth)
        .expect(200)
    ).body;
    expect(vip).toMatchObject({ kind: 'cluster', freshness: { target: 'discovery' }, persona: { name: vip.name } });
    expect(vip.size).toBeGreaterThanOrEqual(40);

    // The same data again: the same segments, nobody moves.
    const again = (await http.post('/v1/segments/discover').set(auth).send({ kMin: 2, kMax: 5, seed: 3 }).expect(200)).body;
    expect(again.segments.map((s: { key: string }) => s.key).sort()).toEqual(first.segments.map((s: { key: string }) => s.key).sort());
    expect([again.entered, again.exited]).toEqual([0, 0]);
    expect(
      (
        await http
          .put(`/v1/segments/${keyOf.get('vip')}`)
          .set(auth)
          .send({ definition: { trait: 'x', op: 'exists' } })
          .expect(400)
      ).body.details,
    ).toEqual([{ field: 'definition', problem: 'not editable on a discovered cluster' }]);
  });

  it('snapshots segment KPIs, publishes them as segments.kpis and keeps their history', async () => {
    await http
      .post('/v1/segments')
      .set(auth)
      .send({ key: 'kpi-cohort', name: 'KPI cohort', definition: { trait: 'cohort', op: 'eq', value: 'kpi' } })
      .expect(201);
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const now = service.app.get(Clock).now();
    await publish(SUBJECTS.profilesUpdated, updated(a, { cohort: 'kpi' }, { orders: 3, revenue: 3000, aov: 1000, clv: 5000, recency_days: 10, lifecycle_stage: 'loyal' }));
    await publish(SUBJECTS.profilesUpdated, updated(b, { cohort: 'kpi' }, { orders: 1, revenue: 500, aov: 500, clv: 800, recency_days: 90, lifecycle_stage: 'lapsed' }));
    await publish(SUBJECTS.profilesUpdated, updated(c, { cohort: 'kpi' }, { orders: 0, revenue: 0, lifecycle_stage: 'prospect' }));
    await publish(SUBJECTS.profilesActivity, viewed(a, 'cameras', now - DAY));
    await waitFor(() => [a, b, c].every((id) => changesFor(id, 'kpi-cohort').length === 1), { timeoutMs: 15_000, what: 'cohort members' });
    const db = service.app.get(MembershipRepository).database.db;
    await waitFor(async () => (await queryRows(db, sql`select 1 from segmentation.behaviour_facts where profile_id = ${a}`)).length === 1, { what: 'fact stored' });
    // The population, read straight from the view.
    const [population] = await queryRows<{ customers: number; revenue: number }>(
      db,
      sql`select count(*)::int as customers, sum(greatest(coalesce((features ->> 'revenue')::float8, 0), 0)) as revenue from segmentation.profile_view`,
    );

    const first = (await http.post('/v1/segments/kpis').set(auth).expect(200)).body;
    const kpis = first.segments.find((s: { key: string }) => s.key === 'kpi-cohort').metrics;
    expect(kpis).toEqual({
      size: 3,
      customerShare: 3 / population.customers,
      revenueShare: 3500 / Number(population.revenue),
      growth: null,
      conversionRate: 1 / 3,
      aov: 750,
      repeatPurchaseRate: 1 / 2,
      meanClv: 2900,
      churnRate: 1 / 3,
      engagementRate: 1 / 3,
      stability: null,
    });
    await waitFor(() => received.some((m) => m.subject === 'segments.kpis' && (m.data as unknown as { segmentKey: string }).segmentKey === 'kpi-cohort'), { what: 'segments.kpis published' });

    // C leaves and D joins: same size, two of four customers in both snapshots.
    service.app.get(Clock).advance(60_000);
    await publish(SUBJECTS.profilesUpdated, updated(c, { cohort: 'other' }, {}, false));
    await publish(SUBJECTS.profilesUpdated, updated(d, { cohort: 'kpi' }, { orders: 2, revenue: 100, aov: 50, lifecycle_stage: 'active' }));
    await waitFor(() => changesFor(c, 'kpi-cohort').length === 2 && changesFor(d, 'kpi-cohort').length === 1, { timeoutMs: 15_000, what: 'cohort changes' });
    await http.post('/v1/segments/kpis').set(auth).expect(200);
    const history = (await http.get('/v1/segments/kpi-cohort/kpis').set(auth).expect(200)).body;
    expect(history.snapshots).toHaveLength(2);
    expect(history.snapshots[0].metrics).toMatchObject({ size: 3, growth: 0, stability: 2 / 4, repeatPurchaseRate: 2 / 3 });
    expect(Date.parse(history.snapshots[0].at)).toBeGreaterThan(Date.parse(history.snapshots[1].at));
    expect((await http.get('/v1/segments/kpi-cohort/kpis?limit=0').set(auth).expect(400)).body.details).toEqual([{ field: 'limit', problem: 'must be at least 1' }]);
  });

  // Needs two connections at once: on node-postgres only (PGlite has one).
  const itWithTwoConnections = driver === 'node-postgres' ? it : () => undefined;
  itWithTwoConnections('keeps the decision of a real-time batch that committed while a recompute was running', async () => {
    await http
      .post('/v1/segments')
      .set(auth)
      .send({ key: 'viewed-today', name: 'Viewed today', definition: { event: 'Product Viewed', within: 'P1D' } })
      .expect(201);
    const clock = service.app.get(Clock);
    const ida = randomUUID();
    await publish(SUBJECTS.profilesUpdated, updated(ida, {}, {}));
    await publish(SUBJECTS.profilesActivity, viewed(ida, 'shoes', clock.now() - DAY / 2));
    await waitFor(() => changesFor(ida, 'viewed-today').length === 1, { timeoutMs: 15_000, what: 'Ida viewed today' });
    // A day later her view is too old: a recompute reading her now would take her out…
    clock.advance(DAY);
    const repository = service.app.get(MembershipRepository);
    const memberships = service.app.get(MembershipService);
    const db = repository.database.db;
    const catalog = await memberships.catalogNow();
    let recompute: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      // …but a real-time batch holds her while the recompute reads every profile…
      await repository.lockProfiles(tx, [ida]);
      recompute = memberships.recompute();
      await waitFor(async () => (await queryRows(db, sql`select 1 from pg_locks where locktype = 'advisory' and classid = ${0x5e6} and not granted`)).length > 0, {
        timeoutMs: 15_000,
        what: 'recompute waiting for the partition',
      });
      // …and records a new view, which keeps her in, before the recompute applies what it read.
      await tx.execute(
        sql`insert into segmentation.behaviour_facts (event_id, profile_id, name, props, occurred_at) values (${randomUUID()}, ${ida}, 'Product Viewed', '{}', ${new Date(clock.now()).toISOString()})`,
      );
      expect(await memberships.evaluateProfiles(tx, new Map([[ida, { ...emptyTouch(), events: new Set(['Product Viewed']) }]]), catalog)).toEqual([]);
    });
    await recompute;
    const logged = await queryRows<{ change: string }>(
      db,
      sql`select c.change from segmentation.membership_changes c join segmentation.segments s on s.id = c.segment_id where s.key = 'viewed-today' and c.profile_id = ${ida} order by c.seq`,
    );
    expect(logged.map((c) => c.change)).toEqual(['entered']);
    expect((await http.get(`/v1/profiles/${ida}/segments`).set(auth).expect(200)).body.segments.map((s: { key: string }) => s.key)).toContain('viewed-today');
  });
});
