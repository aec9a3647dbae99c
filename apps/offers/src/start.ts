import { bootService, runService } from '@segmenta/chassis';
import { SERVICE_PORTS } from '@segmenta/contracts';
import type { LogSink, Telemetry } from '@segmenta/telemetry';
import { AppModule } from './app.module';
import { OffersConfig } from './config';

/** Starts offers with configuration read from `env` (tests pass their own). */
export function startOffers(env: Record<string, string | undefined>, logSink?: LogSink) {
  return bootService({
    name: 'offers',
    title: 'Segmenta offers',
    description: 'Per-segment offers, redemptions, the points ledger, tiers and journeys.',
    configType: OffersConfig,
    defaultPort: SERVICE_PORTS.offers,
    env,
    module: (config) => AppModule.register(config),
    logSink,
  });
}

/** The process entry point (main.ts): start from the process environment, exit 1 on bad config. */
export function main(telemetry: Telemetry): Promise<void> {
  return runService(() => startOffers(process.env), telemetry);
}
