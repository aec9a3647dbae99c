import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DOCS_PATH } from '@segmenta/contracts';
import type { KeyValueBucket } from '@segmenta/messaging';
import { API_SCOPES, generateApiKeySecret, type ApiScope } from '../auth/api-key';
import { API_KEYS_BUCKET, ApiKeyRegistry } from '../auth/api-key-registry';
import { ApiKeysService } from '../auth/api-keys.service';
import { CHANGES_STATE_EXTENSION, REQUIRED_SCOPE_EXTENSION } from '../auth/require-scope';
import { startServiceUnderTest, type ServiceUnderTest } from './service-under-test';

/** Who calls: nobody, someone with a made-up key, or a key holding exactly one scope. */
export type Caller = 'no key' | 'wrong key' | ApiScope;
export const CALLERS: readonly Caller[] = ['no key', 'wrong key', ...API_SCOPES];

export interface DocumentedRoute {
  method: string;
  /** The OpenAPI path, e.g. /v1/segments/{id}. */
  path: string;
  /** x-required-scope: a scope, 'none' or 'write-key'; undefined when the operation lacks it. */
  requiredScope: string | undefined;
  /** x-changes-state: a GET that `read` keys may not call. */
  changesState?: boolean;
}

export interface RouteScopeResult extends DocumentedRoute {
  caller: Caller;
  expected: 'passes auth' | 401 | 403;
  status: number;
  ok: boolean;
}

/** Every operation of a service's OpenAPI document, so a route added later is checked too. */
export async function documentedRoutes(baseUrl: string): Promise<DocumentedRoute[]> {
  const response = await fetch(`${baseUrl}${DOCS_PATH}/openapi.json`);
  if (!response.ok) throw new Error(`${DOCS_PATH}/openapi.json answered ${response.status}`);
  const document = (await response.json()) as { paths: Record<string, Record<string, Record<string, unknown>>> };
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      requiredScope: operation[REQUIRED_SCOPE_EXTENSION] as string | undefined,
      changesState: operation[CHANGES_STATE_EXTENSION] === true,
    })),
  );
}

/** The auth decision ARCHITECTURE §5 asks for, written out independently of the guard's code. */
export function expectedDecision(requiredScope: string, method: string, caller: Caller, changesState = false): 'passes auth' | 401 | 403 {
  if (requiredScope === 'none') return 'passes auth';
  // The tracking API takes write keys only: an API key is no write key.
  if (requiredScope === 'write-key') return 401;
  if (caller === 'no key' || caller === 'wrong key') return 401;
  if (caller === 'admin' || caller === requiredScope) return 'passes auth';
  if (caller === 'read' && method === 'GET' && !changesState) return 'passes auth';
  return 403;
}

/**
 * Creates one key per scope through the service's own ApiKeysService (as POST /v1/api-keys
 * does): each creation returns once the service's registry holds it.
 */
export async function issueTestApiKeys(app: INestApplication): Promise<Record<ApiScope, string>> {
  const keys = new ApiKeysService(app.get<KeyValueBucket>(API_KEYS_BUCKET), app.get(ApiKeyRegistry));
  const secrets = {} as Record<ApiScope, string>;
  for (const scope of API_SCOPES) secrets[scope] = (await keys.create({ name: `test ${scope}`, scopes: [scope] })).secret;
  return secrets;
}

/**
 * Calls every documented route as every caller and compares the answer with expectedDecision.
 * Path parameters get a random UUID and bodies `{}`: routes may then answer 400 or 404, which
 * still shows the key passed. A 5xx counts as a failure.
 */
export async function checkRouteScopes(baseUrl: string, keys: Record<ApiScope, string>): Promise<RouteScopeResult[]> {
  const results: RouteScopeResult[] = [];
  for (const route of await documentedRoutes(baseUrl)) {
    const url = `${baseUrl}${route.path.replace(/\{[^}]+\}/g, () => randomUUID())}`;
    for (const caller of CALLERS) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (caller === 'wrong key') headers.authorization = `Bearer ${generateApiKeySecret()}`;
      else if (caller !== 'no key') headers.authorization = `Bearer ${keys[caller]}`;
      const response = await fetch(url, { method: route.method, headers, body: ['GET', 'HEAD', 'DELETE'].includes(route.method) ? undefined : '{}' });
      await response.arrayBuffer();
      const expected = route.requiredScope === undefined ? 401 : expectedDecision(route.requiredScope, route.method, caller, route.changesState);
      const ok = route.requiredScope !== undefined && (expected === 'passes auth' ? response.status !== 401 && response.status !== 403 && response.status < 500 : response.status === expected);
      results.push({ ...route, caller, expected, status: response.status, ok });
    }
  }
  return results;
}

/**
 * The route-scope test of one service: `start` runs it with a bootstrap admin key and issues a key
 * per scope, `check` calls every documented route with no key, a wrong key and each scope and
 * throws, naming each route, when a decision differs from its x-required-scope, when the declared
 * scopes are not `scopes`, or when one of `routes` ("POST /v1/…") is not documented.
 */
export function routeScopeSuite(
  startService: (env: Record<string, string | undefined>, logSink?: (line: string) => void) => Promise<INestApplication>,
  options: { label: string; scopes: string[]; routes?: string[] },
) {
  let service: ServiceUnderTest | undefined;
  let keys: Record<ApiScope, string>;
  const running = (): ServiceUnderTest => {
    if (!service) throw new Error('routeScopeSuite: start() has not run');
    return service;
  };
  return {
    service: running,
    start: async (): Promise<void> => {
      // The check presents a wrong key on every route on purpose: past 20 routes the lockout of
      // unknown keys (tested on its own in ingestion's abuse e2e) would answer 429 instead of 401.
      service = await startServiceUnderTest(startService, { label: options.label, env: { ADMIN_API_KEY: 'test-admin-key-0123456789', AUTH_FAILURE_LIMIT: '0' } });
      keys = await issueTestApiKeys(service.app);
    },
    stop: async (): Promise<void> => {
      await service?.close();
    },
    check: async (): Promise<void> => {
      const results = await checkRouteScopes(await running().app.getUrl(), keys);
      const problems: string[] = [];
      const declared = [...new Set(results.map((r) => r.requiredScope))].sort();
      if (JSON.stringify(declared) !== JSON.stringify([...options.scopes].sort())) problems.push(`declared scopes ${declared.join(', ')}; expected ${[...options.scopes].sort().join(', ')}`);
      const routes = new Set(results.map((r) => `${r.method} ${r.path}`));
      for (const route of options.routes ?? []) if (!routes.has(route)) problems.push(`${route} is not documented`);
      for (const r of results.filter((result) => !result.ok)) problems.push(JSON.stringify(r));
      if (problems.length > 0) throw new Error(`route scopes:\n${problems.join('\n')}`);
    },
  };
}
