import { Controller, Get, Inject, Injectable, Module, type DynamicModule, type Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { HEALTH_PATH, READY_PATH, RPC_PATTERNS } from '@segmenta/contracts';
import { JetStreamClient } from '@segmenta/messaging';
import { DATABASE, type Database } from '@segmenta/persistence';

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
      await withTimeout(this.database.ping(), 2000);
      return indicator.up({ driver: this.database.driver });
    } catch (error) {
      return indicator.down({ driver: this.database.driver, message: (error as Error).message });
    }
  }

  async nats_(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('nats');
    try {
      if (this.nats.connection.isClosed()) throw new Error('connection closed');
      const rtt = await withTimeout(this.nats.connection.rtt(), 2000);
      return indicator.up({ rttMs: Math.round(rtt * 100) / 100 });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function createHealthController(service: string): Type<unknown> {
  @ApiTags('health')
  @Controller()
  class HealthController {
    private readonly startedAt = Date.now();

    constructor(
      private readonly health: HealthCheckService,
      private readonly dependencies: DependencyIndicators,
    ) {}

    @Get(HEALTH_PATH)
    @ApiOkResponse({ description: 'The process is alive.' })
    live() {
      return { status: 'ok', service, uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) };
    }

    @Get(READY_PATH)
    @HealthCheck()
    @ApiServiceUnavailableResponse({ description: 'The database or NATS is not reachable.' })
    ready() {
      return this.health.check([() => this.dependencies.database_(), () => this.dependencies.nats_()]);
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
      providers: [DependencyIndicators, { provide: SERVICE_NAME, useValue: service }],
    };
  }
}
