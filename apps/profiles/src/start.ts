import { bootService } from '@segmenta/chassis';
import { SERVICE_PORTS } from '@segmenta/contracts';
import type { LogSink } from '@segmenta/telemetry';
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
