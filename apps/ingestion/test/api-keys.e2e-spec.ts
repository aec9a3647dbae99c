import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { startIngestion } from '../src/start';

const ADMIN_KEY = 'test-admin-key-0123456789';
let service: ServiceUnderTest;
let http: ReturnType<typeof request>;

const bearer = (key: string) => `Bearer ${key}`;
const asAdmin = { authorization: bearer(ADMIN_KEY) };

async function createKey(body: object): Promise<{ id: string; secret: string; body: Record<string, unknown> }> {
  const response = await http.post('/v1/api-keys').set(asAdmin).send(body).expect(201);
  return { id: response.body.id, secret: response.body.secret, body: response.body };
}

/** The status of one request: the service that wrote a key reads its own write, so no waiting. */
async function statusOf(path: string, key: string): Promise<number> {
  return (await http.get(path).set('authorization', bearer(key))).status;
}

beforeAll(async () => {
  service = await startServiceUnderTest(startIngestion, { label: 'keys', env: { ADMIN_API_KEY: ADMIN_KEY } });
  http = request(service.app.getHttpServer());
});

afterAll(async () => {
  await service?.close();
});

describe('API key admin API', () => {
  it('creates a key whose secret is shown once: the list and the key itself show neither secret nor hash', async () => {
    const key = await createKey({ name: 'dashboard', scopes: ['read'] });
    expect(key.secret).toMatch(/^sgk_[A-Za-z0-9_-]{43}$/);
    expect(key.body).toEqual({ id: key.id, name: 'dashboard', scopes: ['read'], status: 'active', createdAt: expect.any(String), secret: key.secret });
    const list = await http.get('/v1/api-keys').set(asAdmin).expect(200);
    expect(list.body).toContainEqual({ id: key.id, name: 'dashboard', scopes: ['read'], status: 'active', createdAt: key.body.createdAt });
    const one = await http.get(`/v1/api-keys/${key.id}`).set(asAdmin).expect(200);
    expect(JSON.stringify([list.body, one.body])).not.toMatch(/secret|hash|sgk_/);
  });

  it('lets a read key call GET routes of the admin API and answers 403 to its writes', async () => {
    const key = await createKey({ name: 'console', scopes: ['read'] });
    expect(await statusOf('/v1/sources', key.secret)).toBe(200);
    const refused = await http.post('/v1/sources').set('authorization', bearer(key.secret)).send({ name: 'x' }).expect(403);
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', message: expect.stringContaining('scope admin'), details: [{ field: 'authorization', problem: 'missing scope admin' }] });
  });

  it('answers 403 to a personalize key on an admin GET route and 201 to an admin key it created', async () => {
    const personalize = await createKey({ name: 'shop', scopes: ['personalize'] });
    expect(await statusOf('/v1/sources', personalize.secret)).toBe(403);
    const admin = await createKey({ name: 'ops', scopes: ['admin'] });
    expect(await statusOf('/v1/sources', admin.secret)).toBe(200);
    await http
      .post('/v1/api-keys')
      .set('authorization', bearer(admin.secret))
      .send({ name: 'made by ops', scopes: ['read', 'personalize'] })
      .expect(201);
  });

  it('keeps the old secret working during the grace period of a rotation, with the new one', async () => {
    const key = await createKey({ name: 'rotating', scopes: ['admin'] });
    expect(await statusOf('/v1/sources', key.secret)).toBe(200);
    const rotated = await http.post(`/v1/api-keys/${key.id}/rotate`).set(asAdmin).send({ gracePeriodSeconds: 3600 }).expect(200);
    expect(rotated.body.secret).not.toBe(key.secret);
    expect(Date.parse(rotated.body.previousValidUntil) - Date.now()).toBeGreaterThan(3500 * 1000);
    expect(await statusOf('/v1/sources', rotated.body.secret)).toBe(200);
    expect((await http.get('/v1/sources').set('authorization', bearer(key.secret))).status).toBe(200);
  });

  it('defaults the grace period of a rotation to 24 hours', async () => {
    const key = await createKey({ name: 'default grace', scopes: ['read'] });
    const rotated = await http.post(`/v1/api-keys/${key.id}/rotate`).set(asAdmin).expect(200);
    expect(Date.parse(rotated.body.previousValidUntil) - Date.parse(rotated.body.rotatedAt)).toBe(24 * 3600 * 1000);
  });

  it('ends the old secret at once on a rotation with a grace period of 0', async () => {
    const key = await createKey({ name: 'no grace', scopes: ['admin'] });
    expect(await statusOf('/v1/sources', key.secret)).toBe(200);
    const rotated = await http.post(`/v1/api-keys/${key.id}/rotate`).set(asAdmin).send({ gracePeriodSeconds: 0 }).expect(200);
    expect(await statusOf('/v1/sources', key.secret)).toBe(401);
    expect(await statusOf('/v1/sources', rotated.body.secret)).toBe(200);
  });

  it('revokes a key (both secrets of a rotation) with 401 "revoked key" afterwards; revoking again changes nothing', async () => {
    const key = await createKey({ name: 'leaked', scopes: ['admin'] });
    const rotated = await http.post(`/v1/api-keys/${key.id}/rotate`).set(asAdmin).send({}).expect(200);
    expect(await statusOf('/v1/sources', rotated.body.secret)).toBe(200);
    const revoked = await http.post(`/v1/api-keys/${key.id}/revoke`).set(asAdmin).expect(200);
    expect(revoked.body).toMatchObject({ id: key.id, status: 'revoked', revokedAt: expect.any(String) });
    expect(await statusOf('/v1/sources', rotated.body.secret)).toBe(401);
    const refused = await http.get('/v1/sources').set('authorization', bearer(key.secret)).expect(401);
    expect(refused.body.details).toEqual([{ field: 'authorization', problem: 'revoked key' }]);
    const again = await http.post(`/v1/api-keys/${key.id}/revoke`).set(asAdmin).expect(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    await http.post(`/v1/api-keys/${key.id}/rotate`).set(asAdmin).send({}).expect(409);
  });

  it('refuses an expired key with 401 "expired key"', async () => {
    const key = await createKey({ name: 'temporary', scopes: ['read'], expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(key.body.status).toBe('expired');
    // A later key proves the registry has seen the earlier write.
    const probe = await createKey({ name: 'probe', scopes: ['read'] });
    expect(await statusOf('/v1/sources', probe.secret)).toBe(200);
    const refused = await http.get('/v1/sources').set('authorization', bearer(key.secret)).expect(401);
    expect(refused.body.details).toEqual([{ field: 'authorization', problem: 'expired key' }]);
  });

  it.each([
    [{ scopes: ['read'] }, 'name'],
    [{ name: 'x', scopes: [] }, 'scopes'],
    [{ name: 'x', scopes: ['root'] }, 'scopes'],
    [{ name: 'x', scopes: ['read'], expiresAt: 'tomorrow' }, 'expiresAt'],
  ])('answers 400 naming the field to the key %j', async (body, field) => {
    const response = await http.post('/v1/api-keys').set(asAdmin).send(body).expect(400);
    expect(response.body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('answers 404 to an unknown key id and 400 to a rotation grace period over 30 days', async () => {
    await http.post('/v1/api-keys/0b9d6f3e-6c39-4a57-9d0e-2f1f4a3c5e77/revoke').set(asAdmin).expect(404);
    const key = await createKey({ name: 'grace', scopes: ['read'] });
    await http
      .post(`/v1/api-keys/${key.id}/rotate`)
      .set(asAdmin)
      .send({ gracePeriodSeconds: 31 * 24 * 3600 })
      .expect(400);
  });

  it('answers 401 with the error shape to a missing or unknown key and keeps ADMIN_API_KEY working', async () => {
    const missing = await http.get('/v1/api-keys').expect(401);
    expect(missing.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String), details: [{ field: 'authorization', problem: 'missing Bearer token' }] });
    const unknown = await http.get('/v1/api-keys').set('authorization', bearer('sgk_not-a-key')).expect(401);
    expect(unknown.body.details).toEqual([{ field: 'authorization', problem: 'unknown key' }]);
    await http.get('/v1/api-keys').set(asAdmin).expect(200);
  });
});
