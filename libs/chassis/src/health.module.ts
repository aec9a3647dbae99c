import { Controller, Get, Headers, Inject, Injectable, Module, Res, ServiceUnavailableException, type DynamicModule, type Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ApiExtension, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { HEALTH_PATH, READY_PATH, RPC_PATTERNS } from '@segmenta/contracts';
import { JetStreamClient } from '@segmenta/messaging';
import { DATABASE, type Database } from '@segmenta/persistence';
import { isAllowed } from './auth/api-key';
import { ApiKeyRegistry } from './auth/api-key-registry';
import { REQUIRED_SCOPE_EXTENSION } from './auth/require-scope';
import { withTimeout } from './with-timeout';

const SERVICE_NAME = Symbol('SERVICE_NAME');

/** Readiness probes: the database answers `select 1`, NATS answers a round trip. */
@Injectable()
export class DependencyIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(DATABASE) private readonly database: Database,
    private readonly nats: JetStreamClient,
  ) {}

  async database_(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('database');
    try {
      await withTimeout(this.database.ping(), 2000, 'database ping');
      return indicator.up({ driver: this.database.driver });
    } catch (error) {
      return indicator.down({ driver: this.database.driver, message: (error as Error).message });
    }
  }

  async nats_(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('nats');
    try {
      if (this.nats.connection.isClosed()) throw new Error('connection closed');
      const rtt = await withTimeout(this.nats.connection.rtt(), 2000, 'NATS round trip');
      return indicator.up({ rttMs: Math.round(rtt * 100) / 100 });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

/**
 * Readiness for probes and for people: anyone learns whether the service is ready; only an admin
 * key learns which database driver it runs on, NATS's round trip and what is down (issue 15,
 * privacy: an anonymous caller should not learn the stack).
 */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly dependencies: DependencyIndicators,
    @Inject(ApiKeyRegistry) private readonly registry: ApiKeyRegistry,
  ) {}

  async check(authorization: string | undefined): Promise<{ ready: boolean; body: HealthCheckResult | { status: HealthCheckResult['status'] } }> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([() => this.dependencies.database_(), () => this.dependencies.nats_()]);
    } catch (error) {
      // Terminus reports "not ready" by throwing its result.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      result = error.getResponse() as HealthCheckResult;
    }
    return { ready: result.status === 'ok', body: this.isAdmin(authorization) ? result : { status: result.status } };
  }

  private isAdmin(authorization: string | undefined): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return false;
    const check = this.registry.authenticate(match[1]);
    return check.ok && isAllowed(check.scopes, 'admin', 'GET');
  }
}

function createHealthController(service: string): Type<unknown> {
  @ApiTags('health')
  // Probes answer without a key.
  @ApiExtension(REQUIRED_SCOPE_EXTENSION, 'none')
  @Controller()
  class HealthController {
    private readonly startedAt = Date.now();

    constructor(private readonly readiness: ReadinessService) {}

    @Get(HEALTH_PATH)
    @ApiOkResponse({ description: 'The process is alive.' })
    live() {
      return { status: 'ok', service, uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) };
    }

    @Get(READY_PATH)
    @HealthCheck()
    @ApiServiceUnavailableResponse({ description: 'The database or NATS is not reachable. Only an admin key is told which and why.' })
    async ready(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) response: { status(code: number): unknown }) {
      const { ready, body } = await this.readiness.check(authorization);
      if (!ready) response.status(503);
      return body;
    }

    /** Request/reply over core NATS: lets callers and tests check the service is subscribed. */
    @MessagePattern(RPC_PATTERNS.ping(service))
    ping() {
      return { service, status: 'ok' };
    }
  }
  return HealthController;
}

/** `/health` (liveness), `/ready` (readiness: database and NATS) and the `<service>.ping` RPC. */
@Module({})
export class HealthModule {
  static forService(service: string): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'json' })],
      controllers: [createHealthController(service)],
      providers: [DependencyIndicators, ReadinessService, { provide: SERVICE_NAME, useValue: service }],
    };
  }
}
