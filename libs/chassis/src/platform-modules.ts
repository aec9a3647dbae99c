import { join } from 'node:path';
import type { DynamicModule } from '@nestjs/common';
import { MessagingModule, OutboxModule } from '@segmenta/messaging';
import { PersistenceModule } from '@segmenta/persistence';
import { ApiKeyRegistryModule } from './auth/api-key-registry.module';
import type { BaseServiceConfig } from './config';
import { DeadLettersModule } from './dead-letters.module';
import { HealthModule } from './health.module';
import { MetricsModule } from './metrics';
import { ServiceConfigModule } from './service-config';
import { TrafficControlModule } from './traffic/traffic-control.module';

export interface PlatformOptions {
  service: string;
  config: BaseServiceConfig;
  /** The service's migrations folder (drizzle-kit output). */
  migrationsFolder: string;
  tables?: Record<string, unknown>;
  /** The service emits events: its schema has an outbox (ADR 12), published by a relay in this process. */
  outbox?: boolean;
}

/**
 * The modules every service imports: its database (schema = service name, migrations applied at
 * start-up), JetStream (streams provisioned, consumers discovered), the API key registry (ScopeGuard),
 * rate limits and load shedding, metrics and health/readiness.
 */
export function platformModules(options: PlatformOptions): DynamicModule[] {
  const { config, service } = options;
  return [
    ServiceConfigModule.forConfig(config),
    { module: MetricsModule },
    { module: TrafficControlModule },
    PersistenceModule.forRoot({
      schema: service,
      migrationsFolder: options.migrationsFolder,
      url: config.DATABASE_URL,
      pgliteDataDir: config.DATA_DIR ?? join(process.cwd(), '.data', service),
      tables: options.tables,
      applicationName: service,
    }),
    MessagingModule.forRoot({
      url: config.NATS_URL,
      prefix: config.NATS_PREFIX,
      service,
      replicas: config.NATS_STREAM_REPLICAS,
      consumerDefaults: { ackWaitMs: config.NATS_ACK_WAIT_MS, minBatchIntervalMs: config.NATS_BATCH_INTERVAL_MS },
      publishTimeoutMs: config.NATS_PUBLISH_TIMEOUT_MS,
    }),
    ...(options.outbox ? [OutboxModule.forService({ schema: service })] : []),
    ApiKeyRegistryModule.forConfig(config),
    HealthModule.forService(service),
    { module: DeadLettersModule },
  ];
}
