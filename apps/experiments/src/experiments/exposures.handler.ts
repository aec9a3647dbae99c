import { Injectable } from '@nestjs/common';
import { OfferServedV1, SUBJECTS, type ExperimentExposedV1 } from '@segmenta/contracts';
import { JetStreamBatchConsumer, Outbox, assertMessageData, createEnvelope, type BatchMessage } from '@segmenta/messaging';
import { ExperimentsRepository } from './experiments.repository';

export const EXPERIMENTS_SERVED_DURABLE = 'experiments-offers-served';

/**
 * Exposures from offers.served: offers assigns in process and names the experiments (and variants)
 * each served customer is in; the first exposure of each customer is kept and announced, in the
 * batch's transaction.
 */
@Injectable()
export class ExposuresHandler {
  constructor(
    private readonly repository: ExperimentsRepository,
    private readonly outbox: Outbox,
  ) {}

  @JetStreamBatchConsumer({ stream: 'OFFERS', durable: EXPERIMENTS_SERVED_DURABLE, filterSubjects: [SUBJECTS.offersServed], maxBatch: 500 })
  async onServed(messages: BatchMessage[]): Promise<void> {
    const exposures = messages.flatMap(({ envelope }) => {
      assertMessageData(OfferServedV1, envelope.data);
      const data = envelope.data as OfferServedV1;
      if (data.profileId === null || !data.experiments) return [];
      const profileId = data.profileId;
      return data.experiments.map((e) => ({ experimentId: e.experimentId, profileId, variant: e.variant, at: data.at, source: 'offers' as const }));
    });
    if (exposures.length === 0) return;
    const fresh = await this.repository.transaction(async (tx) => {
      const inserted = await this.repository.exposeMany(tx, exposures);
      await this.outbox.write(
        tx,
        inserted.map((e) => {
          const data: ExperimentExposedV1 = e;
          return { subject: SUBJECTS.experimentsExposed, envelope: createEnvelope(SUBJECTS.experimentsExposed, data, { id: `exposure-${e.experimentId}-${e.profileId}` }), partitionKey: e.profileId };
        }),
      );
      return inserted.length;
    });
    if (fresh > 0) this.outbox.wake();
  }
}
