import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { sql } from 'drizzle-orm';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { SUBJECTS, type Envelope, type ProfileErasedV1, type ProfileMergedV1, type ProfileUpdatedV1, type SegmentChangedV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { DATABASE, availableTestDrivers, queryRows, type Database } from '@segmenta/persistence';
import { EligibilityLookupService } from '../src/read-model/eligibility-lookup.service';
import { startOffers } from '../src/start';

/** Offers' read model of memberships and profile facts, fed from SEGMENTS and PROFILES on real NATS and PostgreSQL (and PGlite). */
jest.setTimeout(60_000);

const ADMIN = 'offers-read-model-admin-key-0123456789';
const codec = JSONCodec<Envelope>();

describe.each(availableTestDrivers())('membership and profile read model (%s)', (driver) => {
  let service: ServiceUnderTest;
  let nc: NatsConnection;
  let seq = 1000;
  const segmentId = randomUUID();

  /** Publishes without Nats-Msg-Id, so a repeated envelope reaches the consumer (as one past JetStream's dedupe window would). */
  const publish = async (subject: string, envelope: Envelope) => {
    await nc.jetstream().publish(`${service.prefix}.${subject}`, codec.encode(envelope));
  };
  const change = (profileId: string, kind: 'entered' | 'exited', at = ++seq, segment = { id: segmentId, key: 'vip' }) =>
    createEnvelope<SegmentMembershipChangedV1>(kind === 'entered' ? SUBJECTS.segmentsEntered : SUBJECTS.segmentsExited, {
      seq: at,
      segmentId: segment.id,
      segmentKey: segment.key,
      segmentVersion: 1,
      profileId,
      change: kind,
      at: new Date().toISOString(),
    });
  const updated = (profileId: string, features: Record<string, unknown>, identifiers?: ProfileUpdatedV1['identifiers']) =>
    createEnvelope<ProfileUpdatedV1>(SUBJECTS.profilesUpdated, { profileId, traits: {}, features, full: true, updatedAt: new Date().toISOString(), identifiers });
  const rows = (where: ReturnType<typeof sql>) =>
    queryRows<{ segment_id: string; profile_id: string; member: boolean; seq: string | number }>(
      service.app.get<Database>(DATABASE).db,
      sql`select segment_id, profile_id, member, seq from offers.membership_view where ${where}`,
    );
  const rowOf = async (profileId: string, segment = segmentId) => (await rows(sql`profile_id = ${profileId}::uuid and segment_id = ${segment}::uuid`))[0];
  const lookup = () => service.app.get(EligibilityLookupService);

  beforeAll(async () => {
    service = await startServiceUnderTest(startOffers, { label: 'offrm', driver, env: { ADMIN_API_KEY: ADMIN } });
    nc = await connect({ servers: service.natsUrl });
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
  });

  it('applies segments.entered and segments.exited, keeping the exit as a non-member with its seq', async () => {
    const profileId = randomUUID();
    await publish(SUBJECTS.segmentsEntered, change(profileId, 'entered'));
    await waitFor(async () => (await rowOf(profileId))?.member === true, { what: 'the entry applied' });
    expect(await lookup().isMember(profileId, ['vip', 'other'])).toEqual({ vip: true, other: false });

    const exit = change(profileId, 'exited');
    await publish(SUBJECTS.segmentsExited, exit);
    await waitFor(async () => (await rowOf(profileId))?.member === false, { what: 'the exit applied' });
    expect(Number((await rowOf(profileId)).seq)).toBe((exit.data as SegmentMembershipChangedV1).seq);
    expect(await lookup().isMember(profileId, ['vip'])).toEqual({ vip: false });
  });

  it('does not regress a membership on a redelivered envelope or an older change', async () => {
    const profileId = randomUUID();
    const entered = change(profileId, 'entered');
    const exited = change(profileId, 'exited');
    // The exit arrives first, then the (older) entry, then the exit again under the same envelope id.
    await publish(SUBJECTS.segmentsExited, exited);
    await publish(SUBJECTS.segmentsEntered, entered);
    await publish(SUBJECTS.segmentsExited, exited);
    // A marker after them: once it is applied, so are they (one consumer, stream order).
    const marker = randomUUID();
    await publish(SUBJECTS.segmentsEntered, change(marker, 'entered'));
    await waitFor(async () => (await rowOf(marker))?.member === true, { what: 'the marker applied' });
    expect(await rowOf(profileId)).toMatchObject({ member: false });
    expect(Number((await rowOf(profileId)).seq)).toBe((exited.data as SegmentMembershipChangedV1).seq);

    // A replay of the old entry under a new envelope id (past the inbox): the seq guard holds.
    await publish(SUBJECTS.segmentsEntered, createEnvelope(SUBJECTS.segmentsEntered, entered.data));
    const marker2 = randomUUID();
    await publish(SUBJECTS.segmentsEntered, change(marker2, 'entered'));
    await waitFor(async () => (await rowOf(marker2))?.member === true, { what: 'the second marker applied' });
    expect(await rowOf(profileId)).toMatchObject({ member: false });
  });

  it('drops a deleted segment and ignores its late changes', async () => {
    const segment = { id: randomUUID(), key: 'doomed' };
    const [a, b] = [randomUUID(), randomUUID()];
    await publish(SUBJECTS.segmentsEntered, change(a, 'entered', ++seq, segment));
    await publish(SUBJECTS.segmentsEntered, change(b, 'entered', ++seq, segment));
    await waitFor(async () => (await rows(sql`segment_id = ${segment.id}::uuid and member`)).length === 2, { what: 'two members' });

    const deleted: SegmentChangedV1 = { segmentId: segment.id, key: segment.key, name: 'Doomed', kind: 'rule', version: 2, status: 'deleted', at: new Date().toISOString() };
    await publish(SUBJECTS.segmentsChanged, createEnvelope(SUBJECTS.segmentsChanged, deleted));
    // A change of the deleted segment that was still in flight.
    await publish(SUBJECTS.segmentsEntered, change(randomUUID(), 'entered', ++seq, segment));
    const marker = randomUUID();
    await publish(SUBJECTS.segmentsEntered, change(marker, 'entered'));
    await waitFor(async () => (await rowOf(marker))?.member === true, { what: 'the marker applied' });
    expect(await rows(sql`segment_id = ${segment.id}::uuid`)).toEqual([]);
  });

  it('keeps profile facts and resolves user ids, anonymous ids and e-mails to the profile', async () => {
    const profileId = randomUUID();
    const userId = `user-${randomUUID()}`;
    const anonymousId = `anon-${randomUUID()}`;
    await publish(
      SUBJECTS.profilesUpdated,
      updated(
        profileId,
        { lifecycle_stage: 'at_risk', top_category: 'cameras', clv: 12_000, aov: 5_500, churn_risk: 0.6, p_alive: 0.4, propensity_upgrade: 0.25, orders: 3 },
        { userId, anonymousIds: [anonymousId], email: 'Ann@Example.com' },
      ),
    );
    await waitFor(async () => (await lookup().resolveProfile({ userId })) !== null, { what: 'the profile known by its user id' });
    const resolved = await lookup().resolveProfile({ userId });
    expect(resolved).toEqual({
      profileId,
      facts: { lifecycleStage: 'at_risk', topCategory: 'cameras', clv: 12_000, aov: 5_500, churnRisk: 0.6, pAlive: 0.4, propensities: { upgrade: 0.25 } },
    });
    expect((await lookup().resolveProfile({ anonymousId }))?.profileId).toBe(profileId);
    expect((await lookup().resolveProfile({ email: 'ann@example.com' }))?.profileId).toBe(profileId);
    expect(await lookup().resolveProfile({ userId: 'nobody' })).toBeNull();

    // A partial update changes only what it names.
    await publish(
      SUBJECTS.profilesUpdated,
      createEnvelope<ProfileUpdatedV1>(SUBJECTS.profilesUpdated, { profileId, traits: {}, features: { lifecycle_stage: 'lapsed' }, full: false, updatedAt: new Date().toISOString() }),
    );
    await waitFor(async () => (await lookup().resolveProfile({ profileId }))?.facts?.lifecycleStage === 'lapsed', { what: 'the partial update applied' });
    expect((await lookup().resolveProfile({ profileId }))?.facts?.topCategory).toBe('cameras');
  });

  it('moves a merged-away profile to the survivor and erases everything of a customer', async () => {
    const [from, into] = [randomUUID(), randomUUID()];
    const userId = `user-${randomUUID()}`;
    await publish(SUBJECTS.profilesUpdated, updated(from, { lifecycle_stage: 'new' }, { userId }));
    await publish(SUBJECTS.profilesUpdated, updated(into, { lifecycle_stage: 'active' }, { email: `${into}@example.com` }));
    await publish(SUBJECTS.segmentsEntered, change(from, 'entered'));
    await publish(SUBJECTS.segmentsEntered, change(into, 'entered'));
    await waitFor(async () => (await rowOf(from))?.member === true && (await rowOf(into))?.member === true && (await lookup().resolveProfile({ userId })) !== null, {
      what: 'both profiles and memberships',
    });

    const merged: ProfileMergedV1 = { fromProfileId: from, intoProfileId: into, reason: 'identify', identifier: `user_id:${userId}`, mergedAt: new Date().toISOString() };
    await publish(SUBJECTS.profilesMerged, createEnvelope(SUBJECTS.profilesMerged, merged));
    await waitFor(async () => (await lookup().resolveProfile({ userId }))?.profileId === into, { what: 'the user id resolving to the survivor' });
    expect(await rowOf(from)).toBeUndefined();
    expect((await lookup().resolveProfile({ profileId: from }))?.profileId).toBe(into);
    // Segmentation's exit of the merged-away profile arrives after the merge: it leaves no row.
    await publish(SUBJECTS.segmentsExited, change(from, 'exited'));

    const erased: ProfileErasedV1 = { profileId: into, mergedProfileIds: [from], erasedAt: new Date().toISOString() };
    await publish(SUBJECTS.profilesErased, createEnvelope(SUBJECTS.profilesErased, erased));
    await waitFor(async () => (await lookup().resolveProfile({ userId })) === null, { what: 'the erasure applied' });
    // A late entry of the erased customer (still in flight) is not applied either.
    await publish(SUBJECTS.segmentsEntered, change(into, 'entered'));
    const marker = randomUUID();
    await publish(SUBJECTS.segmentsEntered, change(marker, 'entered'));
    await waitFor(async () => (await rowOf(marker))?.member === true, { what: 'the marker applied' });

    const db = service.app.get<Database>(DATABASE).db;
    for (const table of ['membership_view', 'profile_facts', 'profile_identifiers']) {
      const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${sql.raw(`offers.${table}`)} where profile_id = any(${`{${from},${into}}`}::uuid[])`);
      expect({ table, n: row.n }).toEqual({ table, n: 0 });
    }
    expect(await lookup().resolveProfile({ profileId: into })).toBeNull();
    expect(await lookup().resolveProfile({ email: `${into}@example.com` })).toBeNull();
  });

  it('reports its freshness and the profiles it holds, segmentation being unreachable here', async () => {
    const response = await request(service.app.getHttpServer())
      .get('/v1/offers/status')
      .set({ authorization: `Bearer ${ADMIN}` })
      .expect(200);
    expect(response.body).toMatchObject({
      memberships: { lastAppliedSeq: seq, segmentationSeq: null, lagChanges: null },
      profiles: { held: expect.any(Number) },
      rebuild: { running: expect.any(Boolean) },
    });
    expect(response.body.memberships.held).toBeGreaterThan(0);
  });
});
