import {
  applyDecorators,
  createParamDecorator,
  ForbiddenException,
  Inject,
  Injectable,
  RequestMethod,
  SetMetadata,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { ApiExtension, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { acceptedScopes, isAllowed, type ApiScope } from './api-key';
import { TrafficControl, type AdmittedRequest, type AdmittedResponse } from '../traffic/traffic-control';
import { ApiKeyRegistry } from './api-key-registry';

const SCOPE_METADATA = 'segmenta:required-scope';
const DOCUMENTED_METADATA = 'segmenta:required-scope-documented';
const CHANGES_STATE_METADATA = 'segmenta:changes-state';
/** The OpenAPI extension on a GET that changes state, which `read` keys therefore do not pass. */
export const CHANGES_STATE_EXTENSION = 'x-changes-state';

export interface RequireScopeOptions {
  /** A GET with effects (it reserves, records…): `read` keys, which may call every other GET, may not call it. */
  changesState?: boolean;
}
/** The name of the bearer security scheme in every service's OpenAPI document. */
export const API_KEY_SECURITY = 'api-key';
/** The OpenAPI extension on every operation that says which scope it needs ('none', 'write-key' or a scope). */
export const REQUIRED_SCOPE_EXTENSION = 'x-required-scope';

/** Documents one route: its declared scope, the scopes that pass it, and the bearer scheme. */
function documentRoute(prototype: object, name: string, descriptor: PropertyDescriptor, required: ApiScope): void {
  const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, descriptor.value) as RequestMethod] ?? 'GET';
  const changesState = Reflect.getMetadata(CHANGES_STATE_METADATA, descriptor.value) === true;
  const accepted = acceptedScopes(required, method, changesState);
  ApiExtension(REQUIRED_SCOPE_EXTENSION, required)(prototype, name, descriptor);
  if (changesState) ApiExtension(CHANGES_STATE_EXTENSION, true)(prototype, name, descriptor);
  ApiExtension('x-accepted-scopes', accepted)(prototype, name, descriptor);
  ApiSecurity(API_KEY_SECURITY, accepted)(prototype, name, descriptor);
  Reflect.defineMetadata(DOCUMENTED_METADATA, true, descriptor.value);
}

/**
 * The scope a controller's routes need; on a method it overrides the controller's. A key with
 * `admin` passes every route, a `read` key every GET route but those with `changesState` (on a method). On the class it also installs the
 * ScopeGuard and writes each route's scope into the OpenAPI document (class decorators run after
 * the method decorators, so every route's HTTP method is known by then).
 */
export function RequireScope(scope: ApiScope, options: RequireScopeOptions = {}): ClassDecorator & MethodDecorator {
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      SetMetadata(SCOPE_METADATA, scope)(target, key as string, descriptor);
      if (options.changesState) SetMetadata(CHANGES_STATE_METADATA, true)(target, key as string, descriptor);
      // Guarded even where the class carries no @RequireScope (the class decorator drops this copy).
      UseGuards(ScopeGuard)(target, key as string, descriptor);
      // Placed above @Get/@Post the route is already known: document it now.
      if (Reflect.hasMetadata(METHOD_METADATA, descriptor.value)) documentRoute(target, key as string, descriptor, scope);
      return descriptor;
    }
    const type = target as new (...args: never[]) => unknown;
    applyDecorators(
      SetMetadata(SCOPE_METADATA, scope),
      UseGuards(ScopeGuard),
      ApiUnauthorizedResponse({ description: 'Missing, unknown, revoked or expired API key.' }),
      ApiForbiddenResponse({ description: 'The API key lacks the scope this route needs.' }),
    )(type);
    for (const name of Object.getOwnPropertyNames(type.prototype)) {
      const route = Object.getOwnPropertyDescriptor(type.prototype, name);
      if (name === 'constructor' || !route || typeof route.value !== 'function' || !Reflect.hasMetadata(METHOD_METADATA, route.value)) continue;
      const guards = Reflect.getMetadata(GUARDS_METADATA, route.value) as unknown[] | undefined;
      if (guards?.includes(ScopeGuard))
        Reflect.defineMetadata(
          GUARDS_METADATA,
          guards.filter((guard) => guard !== ScopeGuard),
          route.value,
        );
      if (Reflect.hasMetadata(DOCUMENTED_METADATA, route.value)) continue;
      documentRoute(type.prototype, name, route, (Reflect.getMetadata(SCOPE_METADATA, route.value) as ApiScope | undefined) ?? scope);
    }
  }) as ClassDecorator & MethodDecorator;
}

interface GuardedRequest extends AdmittedRequest {
  headers: Record<string, string | undefined>;
  /** Set by ScopeGuard once the key is accepted: the registry id of the caller's key ('ADMIN_API_KEY' for the bootstrap key). */
  apiKeyId?: string;
}

/**
 * The id of the API key that made the request (what audit trails record as "who"), for routes
 * behind @RequireScope: `create(@Body() body: Dto, @CallerKeyId() keyId: string)`. Never the secret.
 */
export const CallerKeyId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const keyId = context.switchToHttp().getRequest<GuardedRequest>().apiKeyId;
  // A route without the guard has no caller to name: a programming error, not a client's.
  if (keyId === undefined) throw new Error('CallerKeyId on a route without @RequireScope');
  return keyId;
});

function unauthorized(message: string, problem: string): UnauthorizedException {
  return new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message, details: [{ field: 'authorization', problem }] });
}

/**
 * `Authorization: Bearer <key>`: 401 for a missing, unknown, revoked or expired key, 403 for a key
 * without the route's scope (@RequireScope; `admin` where none is declared). An address that
 * presented too many unknown keys gets 429 whatever it presents now (ADMIN_API_KEY may be short
 * enough to guess); each key counts against RATE_LIMIT_PER_KEY.
 */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ApiKeyRegistry) private readonly registry: ApiKeyRegistry,
    @Inject(TrafficControl) private readonly traffic: TrafficControl,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<ApiScope | undefined>(SCOPE_METADATA, [context.getHandler(), context.getClass()]) ?? 'admin';
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw unauthorized('API key missing: send Authorization: Bearer <key>', 'missing Bearer token');
    const address = this.traffic.addressOf(request);
    this.traffic.assertNotLockedOut(address);
    const check = this.registry.authenticate(match[1]);
    if (!check.ok) {
      // Only unknown keys look like guessing; a revoked or expired one is a stale client.
      if (check.problem === 'unknown key') this.traffic.authenticationFailed(address);
      throw unauthorized(`API key not accepted: ${check.problem}`, check.problem);
    }
    request.apiKeyId = check.keyId;
    this.traffic.consumeKey(`api-key:${check.keyId}`, context.switchToHttp().getResponse<AdmittedResponse>());
    const changesState = this.reflector.get<boolean | undefined>(CHANGES_STATE_METADATA, context.getHandler()) === true;
    if (!isAllowed(check.scopes, required, request.method, changesState)) {
      const accepted = acceptedScopes(required, request.method, changesState).join(' or ');
      throw new ForbiddenException({
        statusCode: 403,
        error: 'Forbidden',
        message: `This route needs an API key with scope ${accepted}; this key has ${check.scopes.join(', ')}`,
        details: [{ field: 'authorization', problem: `missing scope ${required}` }],
      });
    }
    return true;
  }
}
