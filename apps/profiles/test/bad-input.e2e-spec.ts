import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import type { ApiErrorBody } from '@segmenta/contracts';
import { startProfiles } from '../src/start';

/**
 * Admin input PostgreSQL cannot store (NUL, lone surrogates) in block-list entries, look-ups and
 * path parameters (issue 15): each a 400 naming the field, nothing changed.
 */
jest.setTimeout(60_000);

const ADMIN = 'profiles-bad-input-admin-key-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };
let service: ServiceUnderTest;
let http: ReturnType<typeof request>;

const blocklist = async () => (await http.get('/v1/identity/blocklist').set(auth).expect(200)).body as unknown[];

beforeAll(async () => {
  service = await startServiceUnderTest(startProfiles, { label: 'profbad', env: { ADMIN_API_KEY: ADMIN, LOG_LEVEL: 'fatal' } });
  http = request(service.app.getHttpServer());
});

afterAll(async () => {
  await service?.close();
});

describe('text PostgreSQL cannot store', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a NUL in the value', { kind: 'email', value: 'a\u0000@b.c' }, 'value', /NUL/],
    ['a lone surrogate in the kind', { kind: 'custom:\udfff', value: 'x' }, 'kind', /surrogate/],
    ['a NUL in the reason', { kind: 'email', value: 'kiosk@example.com', reason: '\u0000' }, 'reason', /NUL/],
  ])('POST /v1/identity/blocklist with %s: 400 naming the field, nothing added', async (_what, body, field, problem) => {
    const before = await blocklist();
    const response = await http.post('/v1/identity/blocklist').set(auth).send(body).expect(400);
    expect((response.body as ApiErrorBody).details).toEqual([{ field, problem: expect.stringMatching(problem) }]);
    expect(await blocklist()).toEqual(before);
  });

  it.each([
    ['DELETE', '/v1/identity/blocklist?kind=email&value=a%00b', 'value'],
    ['GET', '/v1/profiles?userId=a%00b', 'userId'],
    ['GET', '/v1/events/a%00b', 'id'],
    ['GET', '/v1/profiles/a%00b', 'id'],
    ['GET', '/v1/profiles/a%00b/events', 'id'],
    ['GET', '/v1/profiles/a%00b/merges', 'id'],
    ['DELETE', '/v1/profiles/a%00b', 'id'],
  ])('%s %s: 400 naming %s', async (method, path, field) => {
    const before = await blocklist();
    const response = await http[method.toLowerCase() as 'get' | 'delete'](path).set(auth);
    expect(response.status).toBe(400);
    expect((response.body as ApiErrorBody).details).toEqual([{ field, problem: expect.stringMatching(/NUL|surrogate/) }]);
    expect(await blocklist()).toEqual(before);
  });
});
