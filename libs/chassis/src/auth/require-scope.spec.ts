import 'reflect-metadata';
import { Controller, ForbiddenException, Get, Post, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { ApiKeyRegistry } from './api-key-registry';
import type { ApiScope } from './api-key';
import { RequireScope, ScopeGuard } from './require-scope';
import type { BaseServiceConfig } from '../config';
import { Metrics } from '../metrics';
import { TrafficControl } from '../traffic/traffic-control';

@RequireScope('admin')
@Controller('things')
class ThingsController {
  @Get()
  list() {
    return [];
  }

  @Post()
  create() {
    return {};
  }

  @Get(':id/offers')
  @RequireScope('personalize')
  offers() {
    return [];
  }
}

@Controller('loose')
class MethodOnlyController {
  @Post()
  @RequireScope('personalize')
  redeem() {
    return {};
  }
}

/** A registry that knows one secret per scope, named after it. */
const registry = {
  authenticate: (secret: string) => (['admin', 'personalize', 'read'].includes(secret) ? { ok: true, keyId: secret, scopes: [secret as ApiScope] } : { ok: false, problem: 'unknown key' }),
} as unknown as ApiKeyRegistry;
/** No limits: this spec is about scopes (the limits have their own e2e test in ingestion). */
const noLimits = { RATE_LIMIT_WINDOW_SECONDS: 10, RATE_LIMIT_PER_ADDRESS: 0, RATE_LIMIT_PER_KEY: 0, AUTH_FAILURE_LIMIT: 0, SHED_MAX_IN_FLIGHT: 0, SHED_EVENT_LOOP_LAG_MS: 0 } as BaseServiceConfig;
const guard = new ScopeGuard(new Reflector(), registry, new TrafficControl(noLimits, new Metrics()));

function context(type: new () => object, handler: string, method: string, authorization?: string): ExecutionContext {
  const request = { method, headers: authorization ? { authorization } : {} };
  return {
    getHandler: () => (type.prototype as Record<string, unknown>)[handler],
    getClass: () => type,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}) }),
  } as unknown as ExecutionContext;
}

function decision(type: new () => object, handler: string, method: string, key?: string): 'pass' | 401 | 403 {
  try {
    guard.canActivate(context(type, handler, method, key === undefined ? undefined : `Bearer ${key}`));
    return 'pass';
  } catch (error) {
    if (error instanceof UnauthorizedException) return 401;
    if (error instanceof ForbiddenException) return 403;
    throw error;
  }
}

describe('ScopeGuard with @RequireScope', () => {
  it.each<[string, string, string | undefined, 'pass' | 401 | 403]>([
    ['list', 'GET', undefined, 401],
    ['list', 'GET', 'nope', 401],
    ['list', 'GET', 'read', 'pass'],
    ['list', 'GET', 'personalize', 403],
    ['create', 'POST', 'read', 403],
    ['create', 'POST', 'admin', 'pass'],
    ['offers', 'GET', 'personalize', 'pass'],
    ['offers', 'GET', 'read', 'pass'],
    ['offers', 'GET', 'admin', 'pass'],
  ])('ThingsController.%s (%s) with key %s: %s', (handler, method, key, expected) => {
    expect(decision(ThingsController, handler, method, key)).toBe(expected);
  });

  it('guards a method-level @RequireScope on a class without one', () => {
    expect(Reflect.getMetadata(GUARDS_METADATA, MethodOnlyController.prototype.redeem)).toEqual([ScopeGuard]);
    expect(decision(MethodOnlyController, 'redeem', 'POST', 'personalize')).toBe('pass');
    expect(decision(MethodOnlyController, 'redeem', 'POST', 'read')).toBe(403);
  });

  it('records the accepted key id on the request, for CallerKeyId (audit trails name who changed what)', () => {
    const ctx = context(ThingsController, 'create', 'POST', 'Bearer admin');
    expect(guard.canActivate(ctx)).toBe(true);
    expect(ctx.switchToHttp().getRequest<{ apiKeyId?: string }>().apiKeyId).toBe('admin');
  });

  it('installs the guard once, on the class, where both class and method declare a scope', () => {
    expect(Reflect.getMetadata(GUARDS_METADATA, ThingsController)).toEqual([ScopeGuard]);
    expect(Reflect.getMetadata(GUARDS_METADATA, ThingsController.prototype.offers)).toEqual([]);
  });

  it('documents each route with its own scope and the scopes that pass it', () => {
    const extensions = (name: string) => Reflect.getMetadata('swagger/apiExtension', (ThingsController.prototype as unknown as Record<string, object>)[name]);
    expect(extensions('list')).toMatchObject({ 'x-required-scope': 'admin', 'x-accepted-scopes': ['admin', 'read'] });
    expect(extensions('create')).toMatchObject({ 'x-required-scope': 'admin', 'x-accepted-scopes': ['admin'] });
    expect(extensions('offers')).toMatchObject({ 'x-required-scope': 'personalize', 'x-accepted-scopes': ['admin', 'personalize', 'read'] });
  });
});
