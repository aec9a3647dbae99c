import { bootService } from '@segmenta/chassis';
import { SERVICE_PORTS } from '@segmenta/contracts';
import type { LogSink } from '@segmenta/telemetry';
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
