import { bootService, runService } from '@segmenta/chassis';
import { SERVICE_PORTS } from '@segmenta/contracts';
import type { LogSink, Telemetry } from '@segmenta/telemetry';
import { AppModule } from './app.module';
import { ProfilesConfig } from './config';

/** Starts profiles with configuration read from `env` (tests pass their own). */
export function startProfiles(env: Record<string, string | undefined>, logSink?: LogSink) {
  return bootService({
    name: 'profiles',
    title: 'Segmenta profiles',
    description: 'Identity resolution, customer profiles, the resolved event log and computed features.',
    configType: ProfilesConfig,
    defaultPort: SERVICE_PORTS.profiles,
    env,
    module: (config) => AppModule.register(config),
    logSink,
  });
}

/** The process entry point (main.ts): start from the process environment, exit 1 on bad config. */
export function main(telemetry: Telemetry): Promise<void> {
  return runService(() => startProfiles(process.env), telemetry);
}
