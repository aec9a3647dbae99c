import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { SUBJECTS, type JourneyExposedV1, type ProfileActivityV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { assignVariant } from '@segmenta/stats';
import { startPlatform, type Platform } from './platform-fixture';

/**
 * An experiment on a journey's random split (issue 21), across offers and experiments as their own
 * processes: experiments announces it (experiments.changed), offers' journey executor assigns each
 * enrolled customer in process as GrowthBook does and sends them down their variant's branch (the
 * control's when they are outside it), announcing each assignment (journeys.exposed) through its
 * outbox; experiments records each exposure once, with source journeys.
 */
jest.setTimeout(120_000);

const codec = JSONCodec();
const TARGETED = 40;
const UNTARGETED = 5;
const RULES = { seed: 'checkout-nudge-test', trafficShare: 0.8, weights: [0.5, 0.5], namespace: null };

let platform: Platform;
let offers: ServiceProcess;
let experiments: ServiceProcess;
let nc: NatsConnection;

beforeAll(async () => {
  platform = await startPlatform('jrnexp', ['offers', 'experiments']);
  [offers, experiments] = platform.services;
  nc = await connect({ servers: process.env.NATS_URL });
});

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

/** The branch the experiment gives a targeted customer (1-based), and whether they are in it. */
function expectedBranch(profileId: string): { branch: number; variant: string | null } {
  const assigned = assignVariant(RULES, profileId);
  if (!assigned.inExperiment) return { branch: 1, variant: null };
  return assigned.variant === 0 ? { branch: 1, variant: 'control' } : { branch: 2, variant: 'reminder' };
}

it('sends each customer down the branch of their variant, as @segmenta/stats assigns them (GrowthBook’s hashing), and records each exposure once with source journeys', async () => {
  await request(offers.url).put('/v1/channels/push').set(platform.admin).send({ type: 'nats', subject: 'journeys.sends.push' }).expect(200);
  await request(offers.url)
    .post('/v1/journeys')
    .set(platform.admin)
    .send({
      key: 'checkout-nudge',
      name: 'Checkout nudge',
      definition: {
        trigger: { type: 'event', event: 'Checkout Started', where: [] },
        steps: [
          {
            id: 'split',
            type: 'split',
            branches: [
              { weight: 1, next: 'thanks' },
              { weight: 1, next: 'reminder' },
            ],
          },
          { id: 'thanks', type: 'send', channel: 'push', message: { template: 'thanks' }, next: null },
          { id: 'reminder', type: 'send', channel: 'push', message: { template: 'reminder' }, next: null },
        ],
      },
    })
    .expect(201);
  await request(offers.url).post('/v1/journeys/checkout-nudge/status').set(platform.admin).send({ status: 'active' }).expect(200);
  await request(experiments.url)
    .post('/v1/experiments')
    .set(platform.admin)
    .send({
      key: 'checkout-nudge-test',
      name: 'Checkout: a reminder vs a thank-you',
      definition: {
        targeting: { segments: ['checkout-intent'], trafficShare: RULES.trafficShare },
        variants: [
          { key: 'control', weight: 0.5, journeyBranch: { journey: 'checkout-nudge', step: 'split', branch: 1 } },
          { key: 'reminder', weight: 0.5, journeyBranch: { journey: 'checkout-nudge', step: 'split', branch: 2 } },
        ],
        metrics: [{ key: 'orders', type: 'conversion', event: 'Order Completed' }],
        seed: RULES.seed,
      },
    })
    .expect(201);
  await request(experiments.url).post('/v1/experiments/checkout-nudge-test/status').set(platform.admin).send({ status: 'running' }).expect(200);

  const targeted = Array.from({ length: TARGETED }, () => randomUUID());
  const untargeted = Array.from({ length: UNTARGETED }, () => randomUUID());
  const js = nc.jetstream();
  const segmentId = randomUUID();
  let seq = 0;
  for (const profileId of targeted) {
    const data: SegmentMembershipChangedV1 = { seq: ++seq, segmentId, segmentKey: 'checkout-intent', segmentVersion: 1, profileId, change: 'entered', at: new Date().toISOString() };
    await js.publish(`${platform.prefix}.${SUBJECTS.segmentsEntered}`, codec.encode(createEnvelope(SUBJECTS.segmentsEntered, data)));
  }
  await waitFor(
    async () =>
      (await platform.count(`select count(*) as n from offers.membership_view where segment_key = 'checkout-intent' and member`)) === TARGETED &&
      (await platform.count(`select count(*) as n from offers.experiment_rules where status = 'running'`)) === 1,
    { timeoutMs: 30_000, what: 'the memberships and the running experiment in offers' },
  );

  // Everyone starts a checkout: the journey enrolls them and its split runs.
  const exposed: JourneyExposedV1[] = [];
  const sub = nc.subscribe(`${platform.prefix}.${SUBJECTS.journeysExposed}`);
  void (async () => {
    for await (const msg of sub) exposed.push((codec.decode(msg.data) as { data: JourneyExposedV1 }).data);
  })();
  await nc.flush();
  for (const profileId of [...targeted, ...untargeted]) {
    const data: ProfileActivityV1 = { profileId, eventId: randomUUID(), type: 'track', name: 'Checkout Started', properties: {}, traits: {}, occurredAt: new Date().toISOString() };
    await js.publish(`${platform.prefix}.${SUBJECTS.profilesActivity}`, codec.encode(createEnvelope(SUBJECTS.profilesActivity, data)));
  }
  await waitFor(async () => (await platform.count(`select count(*) as n from offers.journey_enrollments where journey_key = 'checkout-nudge' and status = 'completed'`)) === TARGETED + UNTARGETED, {
    timeoutMs: 30_000,
    what: 'every enrollment through the split',
  });

  const stepsOf = async (profileId: string) => {
    const [enrollment] = (await request(offers.url).get('/v1/journeys/checkout-nudge/enrollments').query({ profileId }).set(platform.admin).expect(200)).body.enrollments;
    // Both steps run at one instant: sorted, as the list orders steps of one instant by id.
    return (enrollment.steps as Array<{ step: string; outcome: string; detail: string | null }>).map((s) => `${s.step}:${s.detail ?? s.outcome}`).sort();
  };
  const inIt = targeted.filter((p) => expectedBranch(p).variant !== null);
  expect(inIt.length).toBeGreaterThan(0);
  expect(inIt.length).toBeLessThan(TARGETED);
  expect(new Set(inIt.map((p) => expectedBranch(p).branch)).size).toBe(2);
  for (const profileId of targeted) {
    const { branch, variant } = expectedBranch(profileId);
    const why = variant === null ? 'outside its traffic share, the control’s branch' : `variant ${variant}`;
    expect(await stepsOf(profileId)).toEqual([`split:branch ${branch} (experiment checkout-nudge-test: ${why})`, `${branch === 1 ? 'thanks' : 'reminder'}:sent`].sort());
  }
  for (const profileId of untargeted) expect(await stepsOf(profileId)).toEqual(['split:branch 1 (experiment checkout-nudge-test: not targeted, the control’s branch)', 'thanks:sent'].sort());

  // One exposure per customer in the experiment, with their variant; none for the others.
  await waitFor(async () => (await platform.count(`select count(*) as n from experiments.exposures`)) === inIt.length, {
    timeoutMs: 30_000,
    what: 'one exposure per customer in the experiment',
  });
  const rows = (await platform.db.query<{ profile_id: string; variant: string; source: string }>(`select profile_id, variant, source from experiments.exposures`)).rows;
  for (const row of rows) {
    expect(row.source).toBe('journeys');
    expect(row.variant).toBe(expectedBranch(row.profile_id).variant);
  }
  expect(new Set(rows.map((r) => r.profile_id))).toEqual(new Set(inIt));
  expect(exposed.map((e) => e.profileId).sort()).toEqual([...inIt].sort());
  expect(exposed.find((e) => e.profileId === inIt[0])).toEqual({
    profileId: inIt[0],
    journeyKey: 'checkout-nudge',
    version: 1,
    stepId: 'split',
    branch: expectedBranch(inIt[0]).branch,
    experiments: [{ experimentId: expect.any(String), key: 'checkout-nudge-test', variant: expectedBranch(inIt[0]).variant }],
    at: expect.any(String),
  });
});
