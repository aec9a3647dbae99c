import { join } from 'node:path';
import type { DynamicModule } from '@nestjs/common';
import { MessagingModule } from '@segmenta/messaging';
import { PersistenceModule } from '@segmenta/persistence';
import { ServiceConfigModule } from './admin.guard';
import type { BaseServiceConfig } from './config';
import { HealthModule } from './health.module';

export interface PlatformOptions {
  service: string;
  config: BaseServiceConfig;
  /** The service's migrations folder (drizzle-kit output). */
  migrationsFolder: string;
  tables?: Record<string, unknown>;
}

/**
 * The modules every service imports: its database (schema = service name, migrations applied at
 * start-up), JetStream (streams provisioned, consumers discovered), and health/readiness.
 */
export function platformModules(options: PlatformOptions): DynamicModule[] {
  const { config, service } = options;
  return [
    ServiceConfigModule.forConfig(config),
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
    HealthModule.forService(service),
  ];
}
