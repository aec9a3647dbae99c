import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { availableTestDrivers } from '@segmenta/persistence';
import { startOffers } from '../src/start';

/**
 * Two replicas of offers on one PostgreSQL database (ADR 21): each keeps the active catalog in
 * memory, and a change made through one is served by the other from its very next request (the
 * catalog version read with each customer moves), including a budget used up and given back.
 */
jest.setTimeout(120_000);

const ADMIN = 'offers-replicas-admin-key-0123456789';
const PLACEMENT = 'replica_test';
const withServer = availableTestDrivers().includes('node-postgres');

(withServer ? describe : describe.skip)('offers replicas share one catalog (node-postgres)', () => {
  let first: ServiceUnderTest;
  let second: INestApplication;
  let personalize: string;
  const admin = { Authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    const env = { ADMIN_API_KEY: ADMIN, OFFER_PLACEMENTS: `home_banner,${PLACEMENT}`, SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0' };
    first = await startServiceUnderTest(startOffers, { label: 'offrepl', driver: 'node-postgres', env });
    second = await startOffers({
      PORT: '0',
      NATS_URL: first.natsUrl,
      NATS_PREFIX: first.prefix,
      DATABASE_URL: first.database.url,
      DATA_DIR: 'memory://',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
      ...env,
    });
    personalize = (await issueTestApiKeys(first.app)).personalize;
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  /** The keys the second replica serves the customer on the test's placement. */
  const servedBySecond = async (profileId: string): Promise<string[]> => {
    const answer = await request(second.getHttpServer())
      .get(`/v1/customers/${profileId}/offers`)
      .query({ placement: PLACEMENT })
      .set({ Authorization: `Bearer ${personalize}` })
      .expect(200);
    return (answer.body.offers as Array<{ key: string }>).map((o) => o.key);
  };
  const viaFirst = () => request(first.app.getHttpServer());

  it('serves what was created, paused, edited, used up and given back through the other replica from the next request on', async () => {
    const [ann, bob] = [randomUUID(), randomUUID()];
    // The second replica loads its catalog before the offer exists.
    expect(await servedBySecond(ann)).toEqual([]);

    await viaFirst()
      .post('/v1/offers')
      .set(admin)
      .send({
        key: 'replica-one',
        name: 'One for the first',
        description: 'Only one',
        reward: { type: 'amount_off', amount: 500, currency: 'EUR' },
        placements: [PLACEMENT],
        startsAt: '2020-01-01T00:00',
        endsAt: null,
        timeZone: 'Europe/Berlin',
        budget: { type: 'redemptions', limit: 1 },
        coupons: { type: 'none' },
      })
      .expect(201);
    expect(await servedBySecond(ann)).toEqual([]);
    await viaFirst().post('/v1/offers/replica-one/status').set(admin).send({ status: 'active' }).expect(200);
    expect(await servedBySecond(ann)).toEqual(['replica-one']);

    await viaFirst().post('/v1/offers/replica-one/status').set(admin).send({ status: 'paused' }).expect(200);
    expect(await servedBySecond(ann)).toEqual([]);
    await viaFirst().post('/v1/offers/replica-one/status').set(admin).send({ status: 'active' }).expect(200);
    expect(await servedBySecond(ann)).toEqual(['replica-one']);

    await viaFirst()
      .patch('/v1/offers/replica-one')
      .set(admin)
      .send({ placements: ['home_banner'] })
      .expect(200);
    expect(await servedBySecond(ann)).toEqual([]);
    await viaFirst()
      .patch('/v1/offers/replica-one')
      .set(admin)
      .send({ placements: [PLACEMENT] })
      .expect(200);
    expect(await servedBySecond(ann)).toEqual(['replica-one']);

    const redemption = await viaFirst()
      .post('/v1/redemptions')
      .set({ Authorization: `Bearer ${personalize}`, 'Idempotency-Key': randomUUID() })
      .send({ offerKey: 'replica-one', profileId: bob })
      .expect(201);
    expect(await servedBySecond(ann)).toEqual([]);
    await viaFirst()
      .post(`/v1/redemptions/${redemption.body.id}/cancel`)
      .set({ Authorization: `Bearer ${personalize}` })
      .expect(200);
    expect(await servedBySecond(ann)).toEqual(['replica-one']);
  });
});
