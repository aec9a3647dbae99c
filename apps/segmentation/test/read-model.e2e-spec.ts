import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { sql } from 'drizzle-orm';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { SUBJECTS, type Envelope, type ProfileActivityV1, type ProfileUpdatedV1 } from '@segmenta/contracts';
import { waitFor } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { DATABASE, queryRows, type Database } from '@segmenta/persistence';
import { Clock } from '../src/membership/clock';
import { ReadModelService } from '../src/read-model/read-model.service';
import { startSegmentation } from '../src/start';

/** The read model's retention against real NATS and PostgreSQL: facts older than BEHAVIOUR_RETENTION_DAYS go, younger ones stay. */
jest.setTimeout(60_000);

const DAY = 86_400_000;
const RETENTION_DAYS = 30;
const codec = JSONCodec<Envelope>();
const ADMIN_KEY = 'read-model-e2e-admin-key-0123456789';
let service: ServiceUnderTest;
let nc: NatsConnection;

const viewed = (profileId: string, at: number): ProfileActivityV1 => ({
  profileId,
  eventId: randomUUID(),
  type: 'track',
  name: 'Product Viewed',
  properties: { category: 'cameras' },
  traits: {},
  occurredAt: new Date(at).toISOString(),
});

async function factsOf(profileId: string): Promise<number> {
  const database = service.app.get<Database>(DATABASE);
  const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from segmentation.behaviour_facts where profile_id = ${profileId}`);
  return row.n;
}

beforeAll(async () => {
  service = await startServiceUnderTest(startSegmentation, {
    label: 'segret',
    env: { ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'warn', BEHAVIOUR_RETENTION_DAYS: String(RETENTION_DAYS) },
  });
  nc = await connect({ servers: service.natsUrl });
});

afterAll(async () => {
  await nc?.close();
  await service?.close();
});

it('removes the behaviour facts older than the retention period and keeps the younger ones', async () => {
  const profileId = randomUUID();
  const clock = service.app.get(Clock);
  const now = clock.now();
  for (const at of [now - 2 * DAY, now - DAY, now]) {
    await nc.jetstream().publish(`${service.prefix}.${SUBJECTS.profilesActivity}`, codec.encode(createEnvelope(SUBJECTS.profilesActivity, viewed(profileId, at))));
  }
  await waitFor(async () => (await factsOf(profileId)) === 3, { timeoutMs: 15_000, what: 'three facts stored' });

  // Half a day past the retention of the fact two days old: it goes, the other two stay.
  clock.advance((RETENTION_DAYS - 1.5) * DAY);
  expect(await service.app.get(ReadModelService).applyRetention()).toBe(1);
  expect(await factsOf(profileId)).toBe(2);
  expect(await service.app.get(ReadModelService).applyRetention()).toBe(0);
});

it('re-evaluates the profiles whose facts the purge removed (a count without a window can drop)', async () => {
  const http = request(service.app.getHttpServer());
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  await http
    .post('/v1/segments')
    .set(auth)
    .send({ key: 'viewed-twice', name: 'Viewed twice', definition: { event: 'Product Viewed', count: { op: 'gte', value: 2 } } })
    .expect(201);
  const profileId = randomUUID();
  const clock = service.app.get(Clock);
  const now = clock.now();
  const view: ProfileUpdatedV1 = { profileId, traits: {}, features: {}, full: true, updatedAt: new Date(now).toISOString() };
  const publish = (subject: string, data: object) => nc.jetstream().publish(`${service.prefix}.${subject}`, codec.encode(createEnvelope(subject, data)));
  await publish(SUBJECTS.profilesUpdated, view);
  for (const at of [now - 3 * DAY, now]) await publish(SUBJECTS.profilesActivity, viewed(profileId, at));
  const isMember = async () => (await http.get(`/v1/profiles/${profileId}/segments`).set(auth).expect(200)).body.segments.some((s: { key: string }) => s.key === 'viewed-twice');
  await waitFor(isMember, { timeoutMs: 15_000, what: 'a member of viewed-twice' });

  // The view three days old passes the retention: one view is left, so she leaves at the purge, not at some later recompute.
  clock.advance((RETENTION_DAYS - 2) * DAY);
  expect(await service.app.get(ReadModelService).applyRetention()).toBeGreaterThanOrEqual(1);
  expect(await factsOf(profileId)).toBe(1);
  expect(await isMember()).toBe(false);
});
