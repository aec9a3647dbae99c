import { Injectable } from '@nestjs/common';
import { OfferRedeemedV1, ProfileActivityV1, ProfileErasedV1, ProfileMergedV1, ProfileUpdatedV1, SUBJECTS } from '@segmenta/contracts';
import { Inbox, JetStreamBatchConsumer, Outbox, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { ExperimentsRepository, keepProfileRevenue, type ExperimentsTx } from '../experiments/experiments.repository';
import { ExperimentMetricsService, type CustomerEvent } from './experiment-metrics.service';

export const EXPERIMENTS_PROFILES_DURABLE = 'experiments-profiles';
export const EXPERIMENTS_REDEMPTIONS_DURABLE = 'experiments-redemptions';

type ProfilesStep = { kind: 'events'; events: CustomerEvent[] } | { kind: 'merge'; from: string; to: string } | { kind: 'erase'; profileIds: string[] };

/**
 * What moves experiments' metrics, each batch in one transaction acked after it commits:
 * - PROFILES, in stream order: track events (conversions, revenue, retention), revenue to date
 *   (CUPED's covariate), merges and erasures. One consumer for all of them, so an event of a
 *   customer sent before their merge is counted before the merge moves their exposure.
 * - OFFERS' redemptions (redemption metrics).
 * An erasure also deletes the customers' experiments.exposed messages from the stream (ADR 14).
 * An event's messageId is claimed in the inbox: a redelivery, or the same event sent twice, counts once.
 */
@Injectable()
export class MetricEventsHandler {
  private readonly profilesInbox = new Inbox('experiments', EXPERIMENTS_PROFILES_DURABLE);
  private readonly redemptionsInbox = new Inbox('experiments', EXPERIMENTS_REDEMPTIONS_DURABLE);

  constructor(
    private readonly repository: ExperimentsRepository,
    private readonly metrics: ExperimentMetricsService,
    private readonly outbox: Outbox,
  ) {}

  // The server here (2.9) takes one filter subject per consumer: profiles.> is filtered here.
  @JetStreamBatchConsumer({ stream: 'PROFILES', durable: EXPERIMENTS_PROFILES_DURABLE, maxBatch: 500 })
  async onProfiles(messages: BatchMessage[]): Promise<void> {
    const revenue: Array<{ profileId: string; revenue: number | null }> = [];
    const gone: string[] = [];
    const steps: ProfilesStep[] = [];
    const events = (): CustomerEvent[] => {
      const last = steps[steps.length - 1];
      if (last?.kind === 'events') return last.events;
      const next: ProfilesStep = { kind: 'events', events: [] };
      steps.push(next);
      return next.events;
    };
    for (const { envelope } of messages) {
      switch (envelope.type) {
        case SUBJECTS.profilesActivity: {
          assertMessageData(ProfileActivityV1, envelope.data);
          const data = envelope.data as ProfileActivityV1;
          if (data.type === 'track' && data.name)
            events().push({ kind: 'track', id: data.eventId, profileId: data.profileId, name: data.name, properties: data.properties ?? {}, occurredAt: new Date(data.occurredAt) });
          break;
        }
        case SUBJECTS.profilesUpdated: {
          assertMessageData(ProfileUpdatedV1, envelope.data);
          const data = envelope.data as ProfileUpdatedV1;
          if (!Object.prototype.hasOwnProperty.call(data.features, 'revenue')) break;
          const value = data.features.revenue;
          revenue.push({ profileId: data.profileId, revenue: typeof value === 'number' && Number.isFinite(value) ? value : null });
          break;
        }
        case SUBJECTS.profilesMerged: {
          assertMessageData(ProfileMergedV1, envelope.data);
          const data = envelope.data as ProfileMergedV1;
          steps.push({ kind: 'merge', from: data.fromProfileId, to: data.intoProfileId });
          gone.push(data.fromProfileId);
          break;
        }
        case SUBJECTS.profilesErased: {
          assertMessageData(ProfileErasedV1, envelope.data);
          const data = envelope.data as ProfileErasedV1;
          steps.push({ kind: 'erase', profileIds: [data.profileId, ...data.mergedProfileIds] });
          gone.push(data.profileId, ...data.mergedProfileIds);
          break;
        }
      }
    }
    if (steps.length === 0 && revenue.length === 0) return;
    await this.repository.transaction(async (tx) => {
      for (const step of steps) await this.apply(tx, step);
      await keepProfileRevenue(tx, revenue, gone);
    });
    // Erasures delete stream messages, and first activity under the programme holdout announces exposures: the relay has work.
    this.outbox.wake();
  }

  @JetStreamBatchConsumer({ stream: 'OFFERS', durable: EXPERIMENTS_REDEMPTIONS_DURABLE, filterSubjects: [SUBJECTS.offersRedeemed], maxBatch: 500 })
  async onRedeemed(messages: BatchMessage[]): Promise<void> {
    const events = messages.map(({ envelope }): CustomerEvent => {
      assertMessageData(OfferRedeemedV1, envelope.data);
      const data = envelope.data as OfferRedeemedV1;
      const { offerKey, rewardType, code, orderId, rewardValue, rewardCurrency } = data;
      return {
        kind: 'redemption',
        id: data.redemptionId,
        profileId: data.profileId,
        name: SUBJECTS.offersRedeemed,
        properties: { offerKey, rewardType, code, orderId, rewardValue, rewardCurrency },
        occurredAt: new Date(data.at),
      };
    });
    await this.repository.transaction((tx) => this.metrics.applyEvents(tx, this.redemptionsInbox, events));
    this.outbox.wake();
  }

  private async apply(tx: ExperimentsTx, step: ProfilesStep): Promise<void> {
    switch (step.kind) {
      case 'events':
        return this.metrics.applyEvents(tx, this.profilesInbox, step.events);
      case 'merge':
        return this.metrics.merge(tx, step.from, step.to);
      case 'erase':
        await this.metrics.erase(tx, step.profileIds);
        // Their experiments.exposed messages leave the stream too (ADR 14).
        return this.outbox.eraseFromStreams(tx, { partitionKeys: step.profileIds });
    }
  }
}
