import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import type { ApiErrorBody } from '@segmenta/contracts';
import { startSegmentation } from '../src/start';

/**
 * Admin input PostgreSQL cannot store (NUL, lone surrogates) in segment names, rules and path
 * parameters, and null for a required column (issue 15): each a 400 naming the field, no change.
 */
jest.setTimeout(60_000);

const ADMIN = 'segmentation-bad-input-admin-key-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };
let service: ServiceUnderTest;
let http: ReturnType<typeof request>;

const VALID = { key: 'bad-input', name: 'Bad input', definition: { trait: 'country', op: 'eq', value: 'DE' } };

/** Every segment as listed, without what time alone changes: what a refused request must leave as it was. */
const listing = async () =>
  ((await http.get('/v1/segments').set(auth).expect(200)).body as Array<Record<string, unknown>>).map(({ key, name, description, status, version, definition }) => ({
    key,
    name,
    description,
    status,
    version,
    definition,
  }));

function expectDetail(body: ApiErrorBody, field: string, problem: RegExp): void {
  expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  expect(body.details).toEqual([{ field, problem: expect.stringMatching(problem) }]);
  expect(body.message).toContain(field);
}

beforeAll(async () => {
  service = await startServiceUnderTest(startSegmentation, { label: 'segbad', env: { ADMIN_API_KEY: ADMIN, LOG_LEVEL: 'fatal' } });
  http = request(service.app.getHttpServer());
  await http.post('/v1/segments').set(auth).send(VALID).expect(201);
});

afterAll(async () => {
  await service?.close();
});

describe('text PostgreSQL cannot store', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a NUL in the name', { ...VALID, key: 'k1', name: 'Bad\u0000' }, 'name', /NUL/],
    ['a lone surrogate in the key', { ...VALID, key: 'k\ud800' }, 'key', /surrogate/],
    ['a NUL in a rule value', { ...VALID, key: 'k2', definition: { trait: 'country', op: 'eq', value: 'D\u0000E' } }, 'definition.value', /NUL/],
    ['a NUL in a nested rule', { ...VALID, key: 'k3', definition: { all: [{ event: 'E\u0000', count: { op: 'gte', value: 1 } }] } }, 'definition.all[0].event', /NUL/],
    ['a NUL in a rule key', { ...VALID, key: 'k4', definition: { all: [{ ['tr\u0000ait']: 'x' }] } }, 'definition.all[0]', /NUL/],
  ])('POST /v1/segments with %s: 400 naming the field, nothing created', async (_what, body, field, problem) => {
    const before = await listing();
    const response = await http.post('/v1/segments').set(auth).send(body).expect(400);
    expectDetail(response.body as ApiErrorBody, field, problem);
    expect(await listing()).toEqual(before);
  });

  it('PUT /v1/segments/:id and POST /v1/segments/preview with a NUL: 400 naming the field', async () => {
    const before = await listing();
    expectDetail((await http.put('/v1/segments/bad-input').set(auth).send({ name: 'x\u0000' }).expect(400)).body as ApiErrorBody, 'name', /NUL/);
    expectDetail(
      (
        await http
          .post('/v1/segments/preview')
          .set(auth)
          .send({ definition: { trait: '\u0000', op: 'exists' } })
          .expect(400)
      ).body as ApiErrorBody,
      'definition.trait',
      /NUL/,
    );
    expect(await listing()).toEqual(before);
  });

  it.each([
    ['DELETE', '/v1/segments/a%00b'],
    ['GET', '/v1/segments/a%00b'],
    ['PUT', '/v1/segments/a%00b'],
    ['GET', '/v1/segments/a%00b/members'],
    ['GET', '/v1/segments/a%00b/changes'],
    ['GET', '/v1/segments/a%00b/history'],
    ['GET', '/v1/segments/a%00b/kpis'],
  ])('%s %s: 400 naming the path parameter', async (method, path) => {
    const before = await listing();
    const response = await http[method.toLowerCase() as 'get' | 'put' | 'delete'](path)
      .set(auth)
      .send(method === 'PUT' ? { name: 'x' } : undefined);
    expect(response.status).toBe(400);
    expect((response.body as ApiErrorBody).details).toEqual([{ field: 'id', problem: expect.stringMatching(/NUL|surrogate|UTF-8/) }]);
    expect(await listing()).toEqual(before);
  });

  it('a path parameter that is not UTF-8 (an encoded surrogate): 400', async () => {
    const response = await http.get('/v1/segments/%ED%A0%80').set(auth).expect(400);
    expect((response.body as ApiErrorBody).message).toMatch(/decode/i);
  });

  it('GET /v1/segments/overlap with a NUL in the query: 400 naming it', async () => {
    const response = await http.get('/v1/segments/overlap?segments=bad-input,a%00b').set(auth).expect(400);
    expect((response.body as ApiErrorBody).details).toEqual([{ field: 'segments', problem: expect.stringMatching(/NUL/) }]);
  });
});

describe('PUT /v1/segments/:id with null for a required column', () => {
  it.each(['name', 'status', 'definition'])('%s: null is a 400 naming the field, the segment unchanged', async (field) => {
    const before = await listing();
    const response = await http
      .put('/v1/segments/bad-input')
      .set(auth)
      .send({ [field]: null })
      .expect(400);
    expectDetail(response.body as ApiErrorBody, field, /must not be null/);
    expect(await listing()).toEqual(before);
  });

  it('an empty body changes nothing', async () => {
    const before = await listing();
    await http.put('/v1/segments/bad-input').set(auth).send({}).expect(200);
    expect(await listing()).toEqual(before);
  });

  it('description may be cleared with null (a nullable column)', async () => {
    await http.put('/v1/segments/bad-input').set(auth).send({ description: 'temporary' }).expect(200);
    const response = await http.put('/v1/segments/bad-input').set(auth).send({ description: null }).expect(200);
    expect(response.body).toMatchObject({ key: 'bad-input', description: null });
  });
});
