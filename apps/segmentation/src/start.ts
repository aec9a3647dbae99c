import { bootService, runService } from '@segmenta/chassis';
import { SERVICE_PORTS } from '@segmenta/contracts';
import type { LogSink, Telemetry } from '@segmenta/telemetry';
import { AppModule } from './app.module';
import { SegmentationConfig } from './config';

/** Starts segmentation with configuration read from `env` (tests pass their own). */
export function startSegmentation(env: Record<string, string | undefined>, logSink?: LogSink) {
  return bootService({
    name: 'segmentation',
    title: 'Segmenta segmentation',
    description: 'Segment definitions, real-time and scheduled membership, KPIs and discovered clusters.',
    configType: SegmentationConfig,
    defaultPort: SERVICE_PORTS.segmentation,
    env,
    module: (config) => AppModule.register(config),
    logSink,
  });
}

/** The process entry point (main.ts): start from the process environment, exit 1 on bad config. */
export function main(telemetry: Telemetry): Promise<void> {
  return runService(() => startSegmentation(process.env), telemetry);
}
