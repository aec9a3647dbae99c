import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import type { ApiErrorBody } from '@segmenta/contracts';
import { connect, type NatsConnection } from 'nats';
import { startIngestion } from '../src/start';

/**
 * Every required field of every tracking call and admin body, sent missing, of the wrong type and
 * too long: a 400 whose details name the field and say which of the three is wrong, and nothing
 * stored. The batch path (compiled checks, class-validator only to explain) must give the same
 * problems as the single calls (the global ValidationPipe).
 */
const ADMIN_KEY = 'validation-e2e-admin-key-0123456789';
const natsUrl = process.env.NATS_URL as string;
let service: ServiceUnderTest;
let nc: NatsConnection;
let http: ReturnType<typeof request>;
let writeKey: string;

type Kind = 'missing' | 'wrong type' | 'too long';
const KINDS: Kind[] = ['missing', 'wrong type', 'too long'];

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const admin = { authorization: `Bearer ${ADMIN_KEY}` };

/** The base body with `field` made missing, a number, or one character over its limit. */
function broken(base: Record<string, unknown>, field: string, kind: Kind, maxLength = 200): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base };
  if (kind === 'missing') delete body[field];
  else body[field] = kind === 'wrong type' ? 42 : 'x'.repeat(maxLength + 1);
  return body;
}

const PROBLEM: Record<Kind, (field: string, maxLength: number) => RegExp> = {
  missing: (field) => new RegExp(`\\b${field}\\b.*is required$`),
  'wrong type': (field) => new RegExp(`^${field} must be a string$`),
  'too long': (field, maxLength) => new RegExp(`^${field} must be at most ${maxLength} characters$`),
};

async function streamCount(): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(`${service.prefix}_EVENTS`)).state.messages;
}

/** Asserts a 400 in the API error shape naming `field` with a problem matching `problem`; returns that detail's problem. */
function expectFieldProblem(body: ApiErrorBody, field: string, problem: RegExp): string {
  expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  const detail = body.details.find((d) => d.field === field);
  expect(detail).toBeDefined();
  expect(detail?.problem).toMatch(problem);
  expect(body.message).toContain(field);
  return detail?.problem as string;
}

beforeAll(async () => {
  service = await startServiceUnderTest(startIngestion, { label: 'ingval', env: { ADMIN_API_KEY: ADMIN_KEY } });
  http = request(service.app.getHttpServer());
  nc = await connect({ servers: natsUrl });
  writeKey = (await http.post('/v1/sources').set(admin).send({ name: 'Validation' }).expect(201)).body.writeKey;
});

afterAll(async () => {
  await nc?.close();
  await service?.close();
});

describe('tracking calls: required fields', () => {
  const rows: Array<[string, string, Record<string, unknown>]> = [
    ['track', 'event', { userId: 'u-1', event: 'Signed Up' }],
    ['track', 'userId', { userId: 'u-1', event: 'Signed Up' }],
    ['track', 'anonymousId', { anonymousId: 'a-1', event: 'Signed Up' }],
    ['identify', 'userId', { userId: 'u-1', traits: { plan: 'gold' } }],
    ['identify', 'anonymousId', { anonymousId: 'a-1' }],
    ['page', 'userId', { userId: 'u-1', name: 'Home' }],
    ['page', 'anonymousId', { anonymousId: 'a-1', name: 'Home' }],
    ['screen', 'userId', { userId: 'u-1', name: 'Basket' }],
    ['screen', 'anonymousId', { anonymousId: 'a-1', name: 'Basket' }],
    ['group', 'groupId', { userId: 'u-1', groupId: 'acme' }],
    ['group', 'userId', { userId: 'u-1', groupId: 'acme' }],
    ['alias', 'previousId', { userId: 'u-1', previousId: 'a-1' }],
    ['alias', 'userId', { userId: 'u-1', previousId: 'a-1' }],
  ];
  const cases = rows.flatMap(([call, field, base]) => KINDS.map((kind) => [call, field, kind, base] as const));

  it.each(cases)('%s with %s %s: 400 naming the field and the problem, the same inside a batch, nothing stored', async (call, field, kind, base) => {
    const body = broken(base, field, kind);
    const before = await streamCount();

    const single = await http.post(`/v1/${call}`).set('authorization', basic(writeKey)).send(body).expect(400);
    const problem = expectFieldProblem(single.body as ApiErrorBody, field, PROBLEM[kind](field, 200));

    const batch = await http
      .post('/v1/batch')
      .set('authorization', basic(writeKey))
      .send({ batch: [{ type: call, ...body }] })
      .expect(400);
    expect(expectFieldProblem(batch.body as ApiErrorBody, `batch[0].${field}`, PROBLEM[kind](field, 200))).toBe(problem);

    expect(await streamCount()).toBe(before);
  });

  it('names both identity fields when neither is given', async () => {
    const response = await http.post('/v1/track').set('authorization', basic(writeKey)).send({ event: 'Signed Up' }).expect(400);
    expect((response.body as ApiErrorBody).details).toEqual([
      { field: 'userId', problem: 'userId or anonymousId is required' },
      { field: 'anonymousId', problem: 'userId or anonymousId is required' },
    ]);
  });

  it('says a batch member without a type is missing its type', async () => {
    const response = await http
      .post('/v1/batch')
      .set('authorization', basic(writeKey))
      .send({ batch: [{ userId: 'u-1', event: 'E' }] })
      .expect(400);
    expect((response.body as ApiErrorBody).details).toEqual([{ field: 'batch[0].type', problem: 'type is required' }]);
  });
});

describe('POST /v1/batch: the batch field', () => {
  it.each<[Kind, Record<string, unknown>, RegExp]>([
    ['missing', { sentAt: new Date().toISOString() }, /^batch is required$/],
    ['wrong type', { batch: { type: 'track', userId: 'u-1', event: 'E' } }, /^batch must be an array$/],
    ['too long', { batch: Array.from({ length: 2501 }, () => ({ type: 'track', userId: 'u-1', event: 'E' })) }, /^batch must have at most 2500 items$/],
  ])('batch %s: 400 naming batch, nothing stored', async (_kind, body, problem) => {
    const before = await streamCount();
    const response = await http.post('/v1/batch').set('authorization', basic(writeKey)).send(body).expect(400);
    expect((response.body as ApiErrorBody).details).toEqual([{ field: 'batch', problem: expect.stringMatching(problem) }]);
    expect(await streamCount()).toBe(before);
  });
});

describe('admin: POST /v1/sources', () => {
  it.each(KINDS)('name %s: 400 naming name, no source created', async (kind) => {
    const before = (await http.get('/v1/sources').set(admin).expect(200)).body.length as number;
    const response = await http
      .post('/v1/sources')
      .set(admin)
      .send(broken({ name: 'Shop' }, 'name', kind))
      .expect(400);
    expectFieldProblem(response.body as ApiErrorBody, 'name', PROBLEM[kind]('name', 200));
    expect((await http.get('/v1/sources').set(admin).expect(200)).body).toHaveLength(before);
  });
});
