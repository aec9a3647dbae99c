import { Injectable } from '@nestjs/common';
import { JourneyExposedV1, OfferServedV1, SUBJECTS } from '@segmenta/contracts';
import { JetStreamBatchConsumer, Outbox, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { ExperimentsRepository } from './experiments.repository';
import { announceExposures } from './exposure-writer';

export const EXPERIMENTS_SERVED_DURABLE = 'experiments-offers-served';
export const EXPERIMENTS_JOURNEY_EXPOSURES_DURABLE = 'experiments-journey-exposures';

type Exposure = Parameters<ExperimentsRepository['exposeMany']>[1][number];

/**
 * Exposures from offers: offers assigns in process and names the experiments (and variants) each
 * customer is in, when it serves a placement (offers.served) or when a journey's split follows an
 * experiment (journeys.exposed). The first exposure of each customer is kept and announced, in the
 * batch's transaction. Two batches at once: exposures insert once per customer whatever the
 * order, and aggregate rows are moved in key order.
 */
@Injectable()
export class ExposuresHandler {
  constructor(
    private readonly repository: ExperimentsRepository,
    private readonly outbox: Outbox,
  ) {}

  @JetStreamBatchConsumer({ stream: 'OFFERS', durable: EXPERIMENTS_SERVED_DURABLE, filterSubjects: [SUBJECTS.offersServed], maxBatch: 1000, concurrency: 2 })
  async onServed(messages: BatchMessage[]): Promise<void> {
    const exposures = messages.flatMap(({ envelope }): Exposure[] => {
      assertMessageData(OfferServedV1, envelope.data);
      const data = envelope.data as OfferServedV1;
      if (data.profileId === null || !data.experiments) return [];
      const profileId = data.profileId;
      return data.experiments.map((e) => ({ experimentId: e.experimentId, profileId, variant: e.variant, at: data.at, source: 'offers' }));
    });
    await this.keepFirst(exposures);
  }

  @JetStreamBatchConsumer({ stream: 'OFFERS', durable: EXPERIMENTS_JOURNEY_EXPOSURES_DURABLE, filterSubjects: [SUBJECTS.journeysExposed], maxBatch: 1000, concurrency: 2 })
  async onJourneyExposed(messages: BatchMessage[]): Promise<void> {
    const exposures = messages.flatMap(({ envelope }): Exposure[] => {
      assertMessageData(JourneyExposedV1, envelope.data);
      const data = envelope.data as JourneyExposedV1;
      return data.experiments.map((e) => ({ experimentId: e.experimentId, profileId: data.profileId, variant: e.variant, at: data.at, source: 'journeys' }));
    });
    await this.keepFirst(exposures);
  }

  /** Stores the exposures that are customers' first and announces those (experiments.exposed), in one transaction. */
  private async keepFirst(exposures: Exposure[]): Promise<void> {
    if (exposures.length === 0) return;
    const fresh = await this.repository.transaction(async (tx) => {
      const inserted = await this.repository.exposeMany(tx, exposures);
      await announceExposures(this.outbox, tx, inserted);
      return inserted.length;
    });
    if (fresh > 0) this.outbox.wake();
  }
}
