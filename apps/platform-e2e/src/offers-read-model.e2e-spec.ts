import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type Envelope, type ProfileUpdatedV1 } from '@segmenta/contracts';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { startPlatform, type Platform } from './platform-fixture';

/**
 * Issue 18: offers' membership read model rebuilds to exactly segmentation's memberships from
 * segmentation's pages, with the SEGMENTS stream purged (its old changes gone) and profile updates
 * still arriving while it runs. Segmentation and offers run as their own processes on one NATS
 * prefix and one database (each in its schema), so the test compares the two tables directly.
 */
jest.setTimeout(240_000);

const codec = JSONCodec<Envelope>();
const PROFILES = 300;
let platform: Platform;
let nc: NatsConnection;

const tierUpdate = (profileId: string, tier: string) =>
  createEnvelope<ProfileUpdatedV1>(SUBJECTS.profilesUpdated, { profileId, traits: { tier }, features: {}, full: false, updatedAt: new Date().toISOString() });

async function publishTiers(profileIds: string[], tierOf: (i: number) => string): Promise<void> {
  const js = nc.jetstream();
  for (let i = 0; i < profileIds.length; i += 1) {
    const envelope = tierUpdate(profileIds[i], tierOf(i));
    await js.publish(`${platform.prefix}.${SUBJECTS.profilesUpdated}`, codec.encode(envelope), { msgID: envelope.id });
  }
}

async function segmentationMembers(): Promise<string[]> {
  const { rows } = await platform.db.query<{ pair: string }>(`select segment_id || '/' || profile_id as pair from segmentation.memberships order by 1`);
  return rows.map((r) => r.pair);
}

async function offersMembers(): Promise<string[]> {
  const { rows } = await platform.db.query<{ pair: string }>(`select segment_id || '/' || profile_id as pair from offers.membership_view where member order by 1`);
  return rows.map((r) => r.pair);
}

const SEGMENT_NAMES = [
  { segment_key: 'tier-gold', name: 'Tier gold' },
  { segment_key: 'tier-silver', name: 'Tier silver' },
];

/** The names offers' reasons use, by key. */
async function offersSegmentNames(): Promise<Array<{ segment_key: string; name: string }>> {
  return (await platform.db.query<{ segment_key: string; name: string }>("select segment_key, name from offers.segment_names where segment_key like 'tier-%' order by segment_key")).rows;
}

async function sameMembers(): Promise<boolean> {
  const [a, b] = await Promise.all([segmentationMembers(), offersMembers()]);
  return a.length > 0 && JSON.stringify(a) === JSON.stringify(b);
}

beforeAll(async () => {
  platform = await startPlatform('offrb', ['segmentation', 'offers']);
  nc = await connect({ servers: process.env.NATS_URL as string });
});

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

it("rebuilds offers' memberships to exactly segmentation's, from its pages, while changes keep arriving and with the stream's old changes gone", async () => {
  const [segmentation, offers] = platform.services;
  for (const tier of ['gold', 'silver']) {
    await request(segmentation.url)
      .post('/v1/segments')
      .set(platform.admin)
      .send({ key: `tier-${tier}`, name: `Tier ${tier}`, definition: { trait: 'tier', op: 'eq', value: tier } })
      .expect(201);
  }
  const profileIds = Array.from({ length: PROFILES }, () => randomUUID());
  await publishTiers(profileIds, (i) => (i % 3 === 0 ? 'gold' : i % 3 === 1 ? 'silver' : 'bronze'));
  await waitFor(async () => (await segmentationMembers()).length === (PROFILES / 3) * 2, { timeoutMs: 60_000, intervalMs: 250, what: 'segmentation holding the memberships' });
  await waitFor(sameMembers, { timeoutMs: 60_000, intervalMs: 250, what: 'offers caught up from the stream' });
  await waitFor(async () => JSON.stringify(await offersSegmentNames()) === JSON.stringify(SEGMENT_NAMES), { timeoutMs: 30_000, what: 'the segment names from segments.changed' });

  // Offers loses its read model, and the stream its old changes: only segmentation's pages (and head, for the names) can tell them now.
  await platform.db.query('truncate offers.membership_view, offers.segment_names');
  const jsm = await nc.jetstreamManager();
  await jsm.streams.purge(`${platform.prefix}_SEGMENTS`);
  expect(await offersMembers()).toEqual([]);

  // More changes keep coming while the rebuild runs: every profile moves tier, some twice.
  const moving = publishTiers([...profileIds, ...profileIds.slice(0, 100)], (i) => (i % 2 === 0 ? 'gold' : 'silver'));
  const started = await request(offers.url).post('/v1/offers/read-model/rebuild').set(platform.admin).expect(202);
  expect(started.body).toMatchObject({ running: true });
  await moving;
  await waitFor(async () => (await request(offers.url).get('/v1/offers/status').set(platform.admin)).body.rebuild?.lastFinishedAt != null, {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: 'the rebuild finished',
  });
  await waitFor(sameMembers, { timeoutMs: 60_000, intervalMs: 250, what: "offers' memberships equal to segmentation's" });
  expect(await offersMembers()).toEqual(await segmentationMembers());
  expect(await offersSegmentNames()).toEqual(SEGMENT_NAMES);

  const status = (await request(offers.url).get('/v1/offers/status').set(platform.admin).expect(200)).body;
  expect(status.memberships.segmentationSeq).toEqual(expect.any(Number));
  expect(status.memberships.lastAppliedSeq).toBeGreaterThanOrEqual(status.rebuild.snapshotSeq);
  expect(status.rebuild).toMatchObject({ running: false, error: null });
  expect(status.rebuild.rows).toBeGreaterThan(0);
});
