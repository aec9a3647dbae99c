import { bootService } from '@segmenta/chassis';
import { SERVICE_PORTS } from '@segmenta/contracts';
import type { LogSink } from '@segmenta/telemetry';
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
