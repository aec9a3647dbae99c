import request from 'supertest';
import { issueTestApiKeys, startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { availableTestDrivers } from '@segmenta/persistence';
import { startOffers } from '../src/start';

/** Journey definitions (issue 20) against real NATS and PostgreSQL (and PGlite): checked, versioned, moved through their statuses. */
jest.setTimeout(120_000);

const ADMIN = 'offers-journeys-e2e-admin-key-01';

const camera = {
  trigger: { type: 'segment_entered', segment: 'camera-fans-this-week' },
  steps: [
    { id: 'email', type: 'send', channel: 'email', message: { template: 'camera-10' }, offer: 'cameras-10', next: 'wait-3d' },
    { id: 'wait-3d', type: 'wait', duration: 'P3D', next: 'redeemed' },
    { id: 'redeemed', type: 'branch', condition: { type: 'redeemed_offer', offer: 'cameras-10' }, then: null, else: 'reminder' },
    { id: 'reminder', type: 'send', channel: 'app_push', message: { template: 'camera-reminder' } },
  ],
  exit: { leftSegment: true, convertedOn: 'Order Completed' },
  reentry: { policy: 'never' },
};

describe.each(availableTestDrivers())('journeys (%s)', (driver) => {
  let service: ServiceUnderTest;
  let http: ReturnType<typeof request>;
  let read: { Authorization: string };
  const admin = { Authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    service = await startServiceUnderTest(startOffers, { label: 'offjrn', driver, env: { ADMIN_API_KEY: ADMIN } });
    http = request(service.app.getHttpServer());
    read = { Authorization: `Bearer ${(await issueTestApiKeys(service.app)).read}` };
  });

  afterAll(async () => {
    await service?.close();
  });

  it('creates a journey as a draft, refuses a bad definition field by field, and a taken key', async () => {
    const created = (await http.post('/v1/journeys').set(admin).send({ key: 'camera-fans-10', name: 'Camera fans', definition: camera }).expect(201)).body;
    expect(created).toMatchObject({
      key: 'camera-fans-10',
      status: 'draft',
      version: 1,
      definition: { steps: expect.arrayContaining([expect.objectContaining({ id: 'reminder', next: null, offer: null })]) },
    });
    const bad = await http
      .post('/v1/journeys')
      .set(admin)
      .send({ key: 'broken', name: 'Broken', definition: { ...camera, steps: [{ ...camera.steps[0], next: 'nowhere' }], reentry: { policy: 'sometimes' } } })
      .expect(400);
    expect(bad.body.details).toEqual([
      { field: 'definition.steps[0]', problem: 'leads to nowhere, which is no step of this journey' },
      { field: 'definition.reentry', problem: expect.stringContaining('never') },
    ]);
    await http.get('/v1/journeys/broken').set(admin).expect(404);
    expect((await http.post('/v1/journeys').set(admin).send({ key: 'camera-fans-10', name: 'Again', definition: camera }).expect(409)).body.details).toEqual([{ field: 'key', problem: 'is taken' }]);
    await http.post('/v1/journeys').set(read).send({ key: 'by-reader', name: 'x', definition: camera }).expect(403);
  });

  it('keeps every version: an edit of a live journey is a new version, and the old one stays readable', async () => {
    await http.post('/v1/journeys/camera-fans-10/status').set(admin).send({ status: 'active' }).expect(200);
    const edited = { ...camera, steps: camera.steps.map((s) => (s.id === 'wait-3d' ? { ...s, duration: 'P2D' } : s)) };
    const v2 = (await http.patch('/v1/journeys/camera-fans-10').set(admin).send({ definition: edited, name: 'Camera fans, faster' }).expect(200)).body;
    expect(v2).toMatchObject({ status: 'active', version: 2, name: 'Camera fans, faster' });
    expect(v2.definition.steps[1]).toMatchObject({ id: 'wait-3d', duration: 'P2D' });
    const renamed = (await http.patch('/v1/journeys/camera-fans-10').set(admin).send({ name: 'Camera fans' }).expect(200)).body;
    expect(renamed).toMatchObject({ version: 2, name: 'Camera fans' });
    const versions = (await http.get('/v1/journeys/camera-fans-10/versions').set(read).expect(200)).body.versions;
    expect(versions.map((v: { version: number; definition: { steps: Array<{ duration?: string }> } }) => [v.version, v.definition.steps[1].duration])).toEqual([
      [2, 'P2D'],
      [1, 'P3D'],
    ]);
    expect(versions[0].actor).toBe('ADMIN_API_KEY');
    await http.patch('/v1/journeys/camera-fans-10').set(admin).send({}).expect(400);
  });

  it('moves only along the allowed statuses; archived is final', async () => {
    await http
      .post('/v1/journeys')
      .set(admin)
      .send({
        key: 'expiring-points',
        name: 'Points expiring',
        definition: { trigger: { type: 'loyalty', event: 'points_expiring' }, steps: [{ id: 'remind', type: 'send', channel: 'email', message: {} }] },
      })
      .expect(201);
    expect((await http.post('/v1/journeys/expiring-points/status').set(admin).send({ status: 'paused' }).expect(409)).body.message).toContain('allowed: active, archived');
    await http.post('/v1/journeys/expiring-points/status').set(admin).send({ status: 'archived' }).expect(200);
    await http.post('/v1/journeys/expiring-points/status').set(admin).send({ status: 'active' }).expect(409);
    await http.patch('/v1/journeys/expiring-points').set(admin).send({ name: 'Again' }).expect(409);
    const listed = (await http.get('/v1/journeys?status=active').set(read).expect(200)).body;
    expect(listed).toEqual({ journeys: [expect.objectContaining({ key: 'camera-fans-10', status: 'active', version: 2 })], nextCursor: null });
    const paged = (await http.get('/v1/journeys?limit=1').set(read).expect(200)).body;
    expect(paged.journeys.map((j: { key: string }) => j.key)).toEqual(['camera-fans-10']);
    expect((await http.get(`/v1/journeys?limit=1&cursor=${paged.nextCursor}`).set(read).expect(200)).body.journeys.map((j: { key: string }) => j.key)).toEqual(['expiring-points']);
  });
});
