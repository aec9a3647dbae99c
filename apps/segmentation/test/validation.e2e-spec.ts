import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import type { ApiErrorBody } from '@segmenta/contracts';
import { startSegmentation } from '../src/start';

/**
 * Every required field of POST /v1/segments sent missing, of the wrong type and too long: a 400
 * whose details name the field and say which of the three is wrong, and no segment created.
 * (The tracking calls and sources are covered by apps/ingestion/test/validation.e2e-spec.ts.)
 */
jest.setTimeout(60_000);

const ADMIN = 'segmentation-validation-admin-key-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };
let service: ServiceUnderTest;
let http: ReturnType<typeof request>;

const VALID = { key: 'camera-intent', name: 'Camera intent', definition: { trait: 'country', op: 'eq', value: 'DE' } };

beforeAll(async () => {
  service = await startServiceUnderTest(startSegmentation, { label: 'segval', env: { ADMIN_API_KEY: ADMIN, LOG_LEVEL: 'warn' } });
  http = request(service.app.getHttpServer());
});

afterAll(async () => {
  await service?.close();
});

describe('admin: POST /v1/segments', () => {
  it.each<[string, string, unknown, RegExp]>([
    ['key', 'missing', undefined, /^key is required$/],
    ['key', 'wrong type', 42, /^key must be a string$/],
    ['key', 'too long', 'k'.repeat(101), /^key must be at most 100 characters$/],
    ['name', 'missing', undefined, /^name is required$/],
    ['name', 'wrong type', 42, /^name must be a string$/],
    ['name', 'too long', 'n'.repeat(201), /^name must be at most 200 characters$/],
    ['definition', 'missing', undefined, /^definition is required$/],
    ['definition', 'wrong type', 'country = DE', /^definition must be an object$/],
  ])('%s %s: 400 naming the field and the problem, no segment created', async (field, _kind, value, problem) => {
    const before = (await http.get('/v1/segments').set(auth).expect(200)).body.length as number;
    const body: Record<string, unknown> = { ...VALID };
    if (value === undefined) delete body[field];
    else body[field] = value;
    const response = await http.post('/v1/segments').set(auth).send(body).expect(400);
    const error = response.body as ApiErrorBody;
    expect(error).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(error.details).toEqual([{ field, problem: expect.stringMatching(problem) }]);
    expect(error.message).toContain(field);
    expect((await http.get('/v1/segments').set(auth).expect(200)).body).toHaveLength(before);
  });

  it('says what is wrong with a key that has the right type and length but bad characters', async () => {
    const response = await http
      .post('/v1/segments')
      .set(auth)
      .send({ ...VALID, key: 'Camera Intent' })
      .expect(400);
    expect((response.body as ApiErrorBody).details).toEqual([{ field: 'key', problem: 'key must be lower-case letters, digits, - and _, starting with a letter or digit' }]);
  });
});
