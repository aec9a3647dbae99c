import { bootService, runService } from '@segmenta/chassis';
import { SERVICE_PORTS } from '@segmenta/contracts';
import type { LogSink, Telemetry } from '@segmenta/telemetry';
import { AppModule } from './app.module';
import { IngestionConfig } from './config';

/** Starts ingestion with configuration read from `env` (tests pass their own). */
export function startIngestion(env: Record<string, string | undefined>, logSink?: LogSink) {
  return bootService({
    name: 'ingestion',
    title: 'Segmenta ingestion',
    description: 'Segment-compatible tracking API: validates events and publishes them durably to JetStream.',
    configType: IngestionConfig,
    defaultPort: SERVICE_PORTS.ingestion,
    env,
    module: (config) => AppModule.register(config),
    // Segment accepts batches up to 500 KB (one message: 32 KB, checked per message).
    bodyLimit: '500kb',
    logSink,
  });
}

/** The process entry point (main.ts): start from the process environment, exit 1 on bad config. */
export function main(telemetry: Telemetry): Promise<void> {
  return runService(() => startIngestion(process.env), telemetry);
}
