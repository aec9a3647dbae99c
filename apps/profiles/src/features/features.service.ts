import { Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SingleFlight, scheduleJob } from '@segmenta/chassis';
import { SUBJECTS, type ProfileUpdatedV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { withTransaction } from '@segmenta/persistence';
import { ProfileStoreRepository, storedPublicFeatures } from '../activity/profile-store.repository';
import { ProfilesConfig } from '../config';
import { applyEvent, changedValues, deriveFeatures, emptyAccumulator, publicFeatures, type FeatureAccumulator, type RfmCuts } from './customer-features';
import { FeatureContext } from './feature-context.service';
import { FeaturesRepository } from './features.repository';

export type RecomputeMode = 'refresh' | 'full';

export interface RecomputeSummary {
  mode: RecomputeMode;
  profiles: number;
  changed: number;
  /** The RFM cut points now in force (null with no customer who ordered). */
  rfmCuts: RfmCuts | null;
  customersWithOrders: number;
  tookMs: number;
}

const CHUNK = 2000;

/**
 * Features in bulk: `refresh` re-derives the time-dependent features (recency, tenure, RFM against
 * newly computed population quintiles, lifecycle) for every profile; `full` first rebuilds every
 * profile's accumulators from its whole event log. Both publish `profiles.updated` for the
 * profiles whose features changed. Runs on FEATURES_REFRESH_CRON and on demand.
 */
@Injectable()
export class FeaturesService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FeaturesService.name);
  private readonly running = new SingleFlight<RecomputeSummary>();
  private closing = false;

  constructor(
    private readonly config: ProfilesConfig,
    private readonly store: ProfileStoreRepository,
    private readonly context: FeatureContext,
    private readonly outbox: Outbox,
    private readonly scheduler: SchedulerRegistry,
    private readonly repository: FeaturesRepository,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({
      scheduler: this.scheduler,
      name: 'profiles-features-refresh',
      cronTime: this.config.FEATURES_REFRESH_CRON,
      what: 'feature refresh',
      work: () => this.recompute('refresh'),
      logger: this.logger,
    });
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
  }

  /** Runs a recompute; a second call while one runs waits for it instead of starting another. */
  recompute(mode: RecomputeMode): Promise<RecomputeSummary> {
    return this.running.run(() => this.run(mode));
  }

  private async run(mode: RecomputeMode): Promise<RecomputeSummary> {
    const started = Date.now();
    let changed = 0;
    if (mode === 'full') changed += await this.pass((ids) => this.rebuiltAccumulators(ids), await this.context.rfmCuts(), 'rebuild');
    const { cuts, population } = await this.computeCuts();
    const refreshed = await this.pass(null, cuts, 'refresh');
    changed += refreshed;
    const profiles = await this.repository.countProfiles();
    const summary: RecomputeSummary = { mode, profiles, changed, rfmCuts: cuts, customersWithOrders: population, tookMs: Date.now() - started };
    this.logger.log(`features ${mode}: ${profiles} profiles, ${changed} changed, ${population} customers with orders, ${summary.tookMs} ms`);
    return summary;
  }

  /** Population quintiles of recency (days), frequency (orders) and monetary value, stored and put in force. */
  private async computeCuts(): Promise<{ cuts: RfmCuts | null; population: number }> {
    const row = await this.repository.rfmQuintiles(this.context.now());
    const toCuts = (values: number[] | null) => (values ? (values.map(Number) as [number, number, number, number]) : null);
    const recency = toCuts(row.recency);
    const frequency = toCuts(row.frequency);
    const monetary = toCuts(row.monetary);
    const cuts = recency && frequency && monetary ? { recency, frequency, monetary } : null;
    if (cuts) await this.repository.saveCuts((['recency', 'frequency', 'monetary'] as const).map((name) => ({ name, cuts: cuts[name], population: row.n })));
    this.context.setCuts(cuts);
    return { cuts, population: row.n };
  }

  /** Walks every profile's features in chunks, re-derives them and writes and publishes the changes. */
  private async pass(rebuild: ((ids: string[]) => Promise<Map<string, FeatureAccumulator>>) | null, cuts: RfmCuts | null, label: string): Promise<number> {
    let after = '00000000-0000-0000-0000-000000000000';
    let changed = 0;
    let seen = 0;
    for (;;) {
      if (this.closing) break;
      const ids = await this.repository.profileIdsAfter(after, CHUNK);
      if (ids.length === 0) break;
      after = ids[ids.length - 1];
      const rebuilt = rebuild ? await rebuild(ids) : null;
      const fitted = await this.context.fittedModels();
      const published = await withTransaction(this.repository.database.db, async (tx) => {
        const stored = await this.store.loadFeatures(tx, ids);
        const now = this.context.now();
        const updates: Array<{ profileId: string; features: ReturnType<typeof deriveFeatures> }> = [];
        const messages: OutgoingMessage[] = [];
        for (const [profileId, current] of stored) {
          const features = deriveFeatures(rebuilt?.get(profileId) ?? current.accumulator, now, cuts, this.context.money, current.model, fitted);
          const diff = changedValues(storedPublicFeatures(current.row), publicFeatures(features));
          if (Object.keys(diff).length === 0) continue;
          updates.push({ profileId, features });
          const data: ProfileUpdatedV1 = { profileId, traits: {}, features: diff, full: false, updatedAt: now.toISOString() };
          messages.push({ subject: SUBJECTS.profilesUpdated, envelope: createEnvelope(SUBJECTS.profilesUpdated, data, { occurredAt: now }), partitionKey: profileId });
        }
        await this.store.upsertFeatures(tx, updates);
        await this.outbox.write(tx, messages);
        return messages.length;
      });
      this.outbox.wake();
      changed += published;
      seen += ids.length;
      if (ids.length === CHUNK) this.logger.log(`features ${label}: ${seen} profiles, ${changed} changed so far`);
    }
    return changed;
  }

  private async rebuiltAccumulators(ids: string[]): Promise<Map<string, FeatureAccumulator>> {
    const result = new Map<string, FeatureAccumulator>(ids.map((id) => [id, emptyAccumulator()]));
    for (const event of await this.store.loadFeatureEvents(this.repository.database.db, ids)) {
      result.set(event.profileId, applyEvent(result.get(event.profileId)!, event, this.context.money));
    }
    return result;
  }
}
