import { bootService, runService } from '@segmenta/chassis';
import { SERVICE_PORTS } from '@segmenta/contracts';
import type { LogSink, Telemetry } from '@segmenta/telemetry';
import { AppModule } from './app.module';
import { ExperimentsConfig } from './config';

/** Starts experiments with configuration read from `env` (tests pass their own). */
export function startExperiments(env: Record<string, string | undefined>, logSink?: LogSink) {
  return bootService({
    name: 'experiments',
    title: 'Segmenta experiments',
    description: 'A/B assignment, exposures, conversions and statistics by segment.',
    configType: ExperimentsConfig,
    defaultPort: SERVICE_PORTS.experiments,
    env,
    module: (config) => AppModule.register(config),
    logSink,
  });
}

/** The process entry point (main.ts): start from the process environment, exit 1 on bad config. */
export function main(telemetry: Telemetry): Promise<void> {
  return runService(() => startExperiments(process.env), telemetry);
}
