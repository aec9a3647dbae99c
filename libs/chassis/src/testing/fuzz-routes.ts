import { gzipSync } from 'node:zlib';
import type { Arbitrary } from 'fast-check';
import { DOCS_PATH } from '@segmenta/contracts';
import { REQUIRED_SCOPE_EXTENSION } from '../auth/require-scope';
import { startServiceUnderTest, type ServiceUnderTest } from './service-under-test';
import { stateFingerprint } from './state-fingerprint';

/**
 * Hostile-input fuzzing of every route a service documents (issue 15): random and malicious bodies
 * (deep nesting, huge strings, NUL and lone surrogates, __proto__/constructor keys, wrong types,
 * nulls, empty and non-JSON bodies, invalid gzip), path parameters and query strings. Every answer
 * must be below 500 and in the API error shape, and a 4xx (or any GET) must leave the service's
 * state (its tables and streams) as it was. Routes come from the OpenAPI document, so a route added later is
 * fuzzed too. Deterministic: FUZZ_SEED (printed on failure) replays a run, FUZZ_RUNS_FACTOR scales it.
 * fast-check is a dev dependency: it is loaded when a fuzz test runs, never by a service.
 */

type FastCheck = typeof import('fast-check');

type Schema = { $ref?: string; type?: string; format?: string; enum?: unknown[]; properties?: Record<string, Schema>; items?: Schema; example?: unknown };
interface Operation {
  parameters?: Array<{ name: string; in: string; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  [REQUIRED_SCOPE_EXTENSION]?: string;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface FuzzRoute {
  method: string;
  /** OpenAPI path, e.g. /v1/segments/{id}. */
  path: string;
  scope: string | undefined;
  queryNames: string[];
  /** Declared body properties and their types: values of the right type get past validation into the service. */
  bodyFields: Record<string, Schema>;
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What the body is, for the failure message. */
  description: string;
}

export interface FuzzFailure {
  route: string;
  request: string;
  problem: string;
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Strings chosen to break things: NUL, lone surrogates, escapes, injections, dates far off, prototype keys. */
const SPECIAL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udc00x',
  '\ud83d\ude00',
  '\uffff',
  '\ufeff',
  '%00',
  '%',
  '../../etc/passwd',
  "' or 1=1 --",
  '"; drop table x; --',
  '\\',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'NaN',
  '-1',
  '1e309',
  '00000000-0000-0000-0000-000000000000',
  '1900-01-01T00:00:00Z',
  '2999-12-31T23:59:59Z',
  '2026-02-30T25:61:00Z',
  'P99999999D',
  '<script>alert(1)</script>',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** A JSON value as a tree whose objects are entry lists, so `__proto__` is an ordinary key when serialized. */
type Json = null | boolean | number | string | Json[] | { entries: Array<[string, Json]> };

function serialize(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  return `{${value.entries.map(([key, v]) => `${JSON.stringify(key)}:${serialize(v)}`).join(',')}}`;
}

function resolve(schema: Schema, document: OpenApiDocument): Schema {
  if (!schema.$ref) return schema;
  return document.components?.schemas?.[schema.$ref.split('/').pop() as string] ?? {};
}

const RAW_BODIES = ['', 'null', '[]', '{}', '"text"', '1', 'true', '{', '{"a":', '[1,]', '{"a":1}{"b":2}', '\ufeff{}', 'nul\u0000l'];

interface Body {
  text?: string;
  bytes?: Buffer;
  description: string;
}

/** encodeURIComponent refuses lone surrogates (they become NUL here; '%ED%A0%80' is sent as such), and long URLs only meet Node's 431. */
const forUrl = (text: string) => text.replace(/[\ud800-\udfff]/g, '\u0000').slice(0, 1000);

interface GeneratedInput {
  params: string[];
  query: string;
  body: Body;
  encoding: string;
  contentType: string;
}

/** The generators, over the fast-check module loaded at run time. */
function generators(fc: FastCheck) {
  const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
  const controlChar = fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code));

  function hostileString(vocabulary: string[]): Arbitrary<string> {
    const pieces = fc.oneof(fc.constantFrom(...SPECIAL_STRINGS), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }), loneSurrogate, controlChar, fc.constantFrom(...vocabulary));
    return fc.oneof(
      { weight: 6, arbitrary: fc.array(pieces, { maxLength: 3 }).map((parts) => parts.join('')) },
      { weight: 3, arbitrary: fc.constantFrom(...vocabulary) },
      { weight: 1, arbitrary: fc.integer({ min: 201, max: 40_000 }).map((n) => 'x'.repeat(n)) },
    );
  }

  function jsonArbitraries(vocabulary: string[]) {
    const string = hostileString(vocabulary);
    const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...vocabulary) }, { weight: 2, arbitrary: string }, { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) });
    const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308));
    const scalar: Arbitrary<Json> = fc.oneof(string, number, fc.boolean(), fc.constant(null));
    const { value } = fc.letrec<{ value: Json }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        fc.array(tie('value'), { maxLength: 4 }),
        fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((entries) => ({ entries })),
      ),
    }));
    return { string, key, number, scalar, value };
  }

  /** A value of the declared type most of the time (so validation passes and the service runs), anything otherwise. */
  function fieldValue(schema: Schema, arbitraries: ReturnType<typeof jsonArbitraries>, document: OpenApiDocument): Arbitrary<Json> {
    const resolved = resolve(schema, document);
    let typed: Arbitrary<Json>;
    if (resolved.enum && resolved.enum.length > 0) typed = fc.constantFrom(...(resolved.enum as Json[]));
    else if (resolved.type === 'string' && resolved.format === 'date-time')
      typed = fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        arbitraries.string,
      );
    else if (resolved.type === 'string') typed = arbitraries.string;
    else if (resolved.type === 'integer' || resolved.type === 'number') typed = arbitraries.number;
    else if (resolved.type === 'boolean') typed = fc.boolean();
    else if (resolved.type === 'array') typed = fc.array(resolved.items ? fieldValue(resolved.items, arbitraries, document) : arbitraries.value, { maxLength: 4 });
    else typed = arbitraries.value;
    return fc.oneof({ weight: 3, arbitrary: typed }, { weight: 1, arbitrary: arbitraries.value }, { weight: 1, arbitrary: fc.constant(null) });
  }

  /** `levels` nested arrays or objects as text: past the body parser's depth limit or just under it. */
  const deepBody = fc
    .tuple(fc.constantFrom(2, 63, 64, 65, 300, 5000), fc.boolean())
    .map(([levels, objects]) => (objects ? `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}` : `${'['.repeat(levels)}${']'.repeat(levels)}`));

  function bodyArbitrary(route: FuzzRoute, document: OpenApiDocument, vocabulary: string[]): Arbitrary<Body> {
    const arbitraries = jsonArbitraries([...vocabulary, ...Object.keys(route.bodyFields)]);
    const fields = Object.entries(route.bodyFields);
    // The declared fields (each present or not) plus hostile extra keys.
    const shaped: Arbitrary<Json> = fc
      .tuple(
        fc.tuple(...fields.map(([name, schema]) => fc.option(fieldValue(schema, arbitraries, document), { nil: undefined }).map((value) => [name, value] as const))),
        fc.array(fc.tuple(arbitraries.key, arbitraries.value), { maxLength: 2 }),
      )
      .map(([declared, extra]) => ({ entries: [...declared.filter((entry): entry is readonly [string, Json] => entry[1] !== undefined).map(([k, v]): [string, Json] => [k, v]), ...extra] }));
    const json = (arbitrary: Arbitrary<Json>, description: string) => arbitrary.map((value): Body => ({ text: serialize(value), description }));
    return fc.oneof(
      { weight: 8, arbitrary: json(shaped, 'declared fields') },
      { weight: 2, arbitrary: json(arbitraries.value, 'any JSON') },
      { weight: 1, arbitrary: deepBody.map((text): Body => ({ text, description: `nested ${text.length} chars` })) },
      { weight: 1, arbitrary: fc.constantFrom(...RAW_BODIES).map((text): Body => ({ text, description: 'raw text' })) },
      { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from('{"a":"\xed\xa0\x80"}', 'latin1')).map((bytes): Body => ({ bytes, description: 'invalid UTF-8' })) },
      { weight: 1, arbitrary: fc.constant<Body>({ text: `{"a":"${'x'.repeat(600 * 1024)}"}`, description: 'over every body limit' }) },
    );
  }

  /** Content-Encoding: mostly none, sometimes a valid gzip, sometimes bytes that do not inflate. */
  const encodingArbitrary = fc.oneof(
    { weight: 8, arbitrary: fc.constant('identity') },
    { weight: 1, arbitrary: fc.constant('gzip') },
    { weight: 1, arbitrary: fc.constantFrom('gzip-invalid', 'deflate-invalid', 'br-invalid', 'snappy') },
  );
  const contentTypeArbitrary = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/json; charset=nope', 'application/x-www-form-urlencoded', '') },
  );

  function pathParamArbitrary(knownIds: string[], vocabulary: string[]): Arbitrary<string> {
    const encoded = hostileString(vocabulary).map((s) => encodeURIComponent(forUrl(s)));
    return fc.oneof(
      { weight: 3, arbitrary: knownIds.length > 0 ? fc.constantFrom(...knownIds).map(encodeURIComponent) : fc.uuid() },
      { weight: 1, arbitrary: fc.uuid() },
      { weight: 3, arbitrary: encoded },
      // Escapes that do not decode, or decode to NUL or a surrogate.
      { weight: 1, arbitrary: fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%', '%zz', '%C0%80', '..%2F..', 'x'.repeat(5000)) },
    );
  }

  function queryArbitrary(route: FuzzRoute, vocabulary: string[]): Arbitrary<string> {
    const names = [...route.queryNames, ...PROTO_KEYS.slice(0, 2), 'limit', 'cursor'];
    const value = fc.oneof(hostileString(vocabulary), fc.integer().map(String), fc.constantFrom('-1', '0', '1e9', '1.5', 'abc'));
    const pair = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...names), value).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(forUrl(v))}`) },
      { weight: 1, arbitrary: fc.constantFrom(...names).map((k) => `${k}[a]=1&${k}=2&${k}=3`) },
      { weight: 1, arbitrary: fc.constantFrom('%00=1', 'a=%ED%A0%80', '=', '&&', 'a=%zz') },
    );
    return fc.array(pair, { maxLength: 3 }).map((pairs) => (pairs.length > 0 ? `?${pairs.join('&')}` : ''));
  }

  /** Everything one request to `route` is made of. */
  return (route: FuzzRoute, document: OpenApiDocument, vocabulary: string[], knownIds: string[]): Arbitrary<GeneratedInput> =>
    fc.record({
      params: fc.array(pathParamArbitrary(knownIds, vocabulary), { minLength: 2, maxLength: 2 }),
      query: queryArbitrary(route, vocabulary),
      body: bodyArbitrary(route, document, vocabulary),
      encoding: encodingArbitrary,
      contentType: contentTypeArbitrary,
    });
}

// ---------------------------------------------------------------------------------------------
// Routes

export async function fuzzableRoutes(baseUrl: string): Promise<{ routes: FuzzRoute[]; document: OpenApiDocument; vocabulary: string[] }> {
  const response = await fetch(`${baseUrl}${DOCS_PATH}/openapi.json`);
  const document = (await response.json()) as OpenApiDocument;
  const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]): FuzzRoute => {
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      return {
        method: method.toUpperCase(),
        path,
        scope: operation[REQUIRED_SCOPE_EXTENSION],
        queryNames: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: bodySchema ? (resolve(bodySchema, document).properties ?? {}) : {},
      };
    }),
  );
  // Enum values and examples of the document: words the API understands, so bodies reach its logic.
  const vocabulary = new Set<string>(['all', 'any', 'not', 'trait', 'feature', 'event', 'op', 'value', 'where', 'count', 'within', 'eq', 'gte', 'in', 'between', 'P7D', 'inSegment']);
  const collect = (value: unknown): void => {
    if (typeof value === 'string' && value.length <= 40) vocabulary.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (k === 'enum' || k === 'example' || k === 'default' || typeof v === 'object') collect(v);
  };
  collect(document.components);
  collect(document.paths);
  return { routes, document, vocabulary: [...vocabulary] };
}

// ---------------------------------------------------------------------------------------------
// Requests and checks

export interface FuzzCredentials {
  adminKey: string;
  /** Write key for the tracking API (Basic auth), when the service has one. */
  writeKey?: string;
}

function buildRequest(baseUrl: string, route: FuzzRoute, credentials: FuzzCredentials, input: GeneratedInput): FuzzRequest {
  let index = 0;
  const path = route.path.replace(/\{[^}]+\}/g, () => input.params[index++ % input.params.length] ?? 'x');
  const headers: Record<string, string> = {};
  // The right credentials: auth decisions are the route-scope tests' subject, this one wants the routes' logic.
  if (route.scope === 'write-key' && credentials.writeKey) headers.authorization = `Basic ${Buffer.from(`${credentials.writeKey}:`).toString('base64')}`;
  else if (route.scope !== 'none') headers.authorization = `Bearer ${credentials.adminKey}`;
  let body: Buffer | undefined;
  if (!['GET', 'HEAD'].includes(route.method)) {
    body = input.body.bytes ?? Buffer.from(input.body.text ?? '', 'utf8');
    if (input.contentType) headers['content-type'] = input.contentType;
    if (input.encoding === 'gzip') body = gzipSync(body);
    else if (input.encoding !== 'identity') body = Buffer.from(`${input.encoding}:${body.subarray(0, 16).toString('hex')}`);
    if (input.encoding !== 'identity') headers['content-encoding'] = input.encoding.replace('-invalid', '');
  }
  return { method: route.method, url: `${baseUrl}${path}${input.query}`, headers, body, description: `${input.body.description}, ${input.encoding}, ${input.contentType || 'no content-type'}` };
}

const preview = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);

function describeRequest(request: FuzzRequest): string {
  const body = request.body ? preview(JSON.stringify(request.body.toString('utf8'))) : '(none)';
  return `${request.method} ${preview(request.url, 200)} [${request.description}] headers=${JSON.stringify({ ...request.headers, authorization: request.headers.authorization ? '…' : undefined })} body=${body}`;
}

/** The answer must be below 500 and, when an error, in the API error shape with a message. */
function answerProblem(status: number, text: string): string | undefined {
  if (status >= 500) return `answered ${status}: ${preview(text)}`;
  if (status < 400) return undefined;
  // Node's HTTP parser refuses headers (the URL included) over 16 KB itself, before any application code.
  if (status === 431 && text === '') return undefined;
  try {
    const body = JSON.parse(text) as { statusCode?: unknown; message?: unknown; details?: unknown };
    if (body.statusCode !== status || typeof body.message !== 'string' || body.message.length === 0 || !Array.isArray(body.details))
      return `answered ${status} outside the API error shape: ${preview(text)}`;
  } catch {
    return `answered ${status} with a body that is not JSON: ${preview(text)}`;
  }
  return undefined;
}

async function send(request: FuzzRequest): Promise<{ status: number; text: string }> {
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
  return { status: response.status, text: await response.text() };
}

export interface FuzzOptions {
  baseUrl: string;
  credentials: FuzzCredentials;
  /** Ids and keys that exist, so updates and deletes reach the database. */
  knownIds?: string[];
  /** The service's state; equal before and after every 4xx. `relist`: look for new tables and streams too. */
  fingerprint: (relist?: boolean) => Promise<string>;
  runsPerRoute: number;
  seed: number;
}

/**
 * Runs `runsPerRoute` generated requests against every documented route; returns what failed
 * (empty when all is well) and how many requests were sent. Each route has its own seed derived
 * from `seed`, so adding a route does not change what the others get.
 */
export async function fuzzRoutes(
  options: FuzzOptions,
): Promise<{ failures: FuzzFailure[]; requests: number; routes: number; statuses: Record<number, number>; timings: { sendMs: number; fingerprintMs: number } }> {
  const fc = await import('fast-check');
  const inputFor = generators(fc);
  const { routes, document, vocabulary } = await fuzzableRoutes(options.baseUrl);
  const failures: FuzzFailure[] = [];
  let requests = 0;
  const statuses: Record<number, number> = {};
  const timings = { sendMs: 0, fingerprintMs: 0 };
  const fingerprint = async (relist?: boolean) => {
    const started = Date.now();
    const value = await options.fingerprint(relist);
    timings.fingerprintMs += Date.now() - started;
    return value;
  };
  // The state after the last refused request, which is the state before the next one; undefined after a success.
  let known: string | undefined;
  // A 2xx may still be finishing in the background (the outbox relay): wait until the state holds still.
  const stableFingerprint = async (): Promise<string> => {
    if (known !== undefined) return known;
    let previous = await fingerprint(true);
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      const next = await fingerprint();
      if (next === previous) break;
      previous = next;
    }
    return previous;
  };
  for (const [index, route] of routes.entries()) {
    const routeName = `${route.method} ${route.path}`;
    const input = inputFor(route, document, vocabulary, options.knownIds ?? []);
    const seed = options.seed + index;
    const result = await fc.check(
      fc.asyncProperty(input, async (generated) => {
        const request = buildRequest(options.baseUrl, route, options.credentials, generated);
        const before = await stableFingerprint();
        const sent = Date.now();
        const { status, text } = await send(request);
        timings.sendMs += Date.now() - sent;
        requests++;
        statuses[status] = (statuses[status] ?? 0) + 1;
        const problem = answerProblem(status, text);
        if (problem) known = undefined;
        if (problem) throw new Error(`${problem}\n  request: ${describeRequest(request)}`);
        // A refused request changes nothing; nor does a GET, whatever its answer.
        if (status >= 400 || request.method === 'GET') {
          const after = await fingerprint();
          known = after;
          if (after !== before)
            throw new Error(
              `answered ${status} to a ${request.method} but changed state:\n  before: ${before}\n  after:  ${after}\n  request: ${describeRequest(request)}\n  answer: ${preview(text)}`,
            );
        } else known = undefined;
      }),
      { numRuns: options.runsPerRoute, seed, endOnFailure: !process.env.FUZZ_SHRINK },
    );
    if (result.failed) {
      const error = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
      failures.push({ route: routeName, request: `seed ${seed} (FUZZ_SEED=${options.seed}; path ${result.counterexamplePath})`, problem: error });
    }
  }
  return { failures, requests, routes: routes.length, statuses, timings };
}

/** The seed of this run: FUZZ_SEED when set (to replay a failure), else a fixed one (CI stays deterministic). */
export function fuzzSeed(): number {
  return process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 15_2026;
}

/**
 * The fuzz test of one service: starts it with an admin key (and whatever `prepare` creates:
 * write keys, known ids), fuzzes every documented route and fails naming each route, the seed and
 * the request when an answer is a 5xx, outside the error shape, or a 4xx that changed state.
 */
export function fuzzSuite(
  startService: Parameters<typeof startServiceUnderTest>[0],
  options: {
    label: string;
    runsPerRoute: number;
    env?: Record<string, string>;
    prepare?: (service: ServiceUnderTest, adminKey: string) => Promise<{ writeKey?: string; knownIds?: string[] }>;
  },
) {
  const adminKey = `fuzz-admin-key-${options.label}-0123456789`;
  let service: ServiceUnderTest | undefined;
  return {
    start: async (): Promise<void> => {
      service = await startServiceUnderTest(startService, { label: options.label, env: { ADMIN_API_KEY: adminKey, LOG_LEVEL: 'fatal', ...options.env } });
    },
    stop: async (): Promise<void> => {
      await service?.close();
    },
    run: async (): Promise<void> => {
      if (!service) throw new Error('fuzzSuite: start() has not run');
      const prepared = (await options.prepare?.(service, adminKey)) ?? {};
      const fingerprint = await stateFingerprint({ databaseUrl: service.database.url, natsUrl: service.natsUrl, prefix: service.prefix });
      const seed = fuzzSeed();
      const runs = Math.max(1, Math.round(options.runsPerRoute * Number(process.env.FUZZ_RUNS_FACTOR ?? 1)));
      const started = Date.now();
      try {
        const outcome = await fuzzRoutes({
          baseUrl: await service.app.getUrl(),
          credentials: { adminKey, writeKey: prepared.writeKey },
          knownIds: prepared.knownIds,
          fingerprint: fingerprint.read,
          runsPerRoute: runs,
          seed,
        });
        // FUZZ_VERBOSE=1: what the run did, to size runsPerRoute.
        if (process.env.FUZZ_VERBOSE)
          process.stdout.write(
            `fuzz ${options.label}: ${outcome.requests} requests on ${outcome.routes} routes in ${Date.now() - started} ms, statuses ${JSON.stringify(outcome.statuses)}, ${JSON.stringify(outcome.timings)}\n`,
          );
        if (outcome.failures.length > 0) {
          throw new Error(
            `fuzz (${options.label}, FUZZ_SEED=${seed}): ${outcome.failures.length} of ${outcome.routes} routes failed\n\n${outcome.failures.map((f) => `${f.route} — ${f.request}\n${f.problem}`).join('\n\n')}`,
          );
        }
        if (outcome.routes === 0) throw new Error(`fuzz (${options.label}): the OpenAPI document lists no route`);
      } finally {
        await fingerprint.close();
      }
    },
  };
}
