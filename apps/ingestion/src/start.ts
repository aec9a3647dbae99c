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
    // The Segment calls are machine traffic at thousands a second: errors are logged, requests not.
    unloggedRoutes: TRACKING_ROUTES,
    // SDKs label their JSON loosely (RudderStack's: gzip as x-www-form-urlencoded); the tracking API reads JSON whatever the label.
    jsonWhateverContentTypeRoutes: TRACKING_ROUTES,
  });
}

const TRACKING_ROUTES = ['v1/batch', 'v1/identify', 'v1/track', 'v1/page', 'v1/screen', 'v1/group', 'v1/alias'];

/** The process entry point (main.ts): start from the process environment, exit 1 on bad config. */
export function main(telemetry: Telemetry): Promise<void> {
  return runService(() => startIngestion(process.env), telemetry);
}
