import { Injectable } from '@nestjs/common';
import { LoyaltyTierChangedV1, ProfileActivityV1, ProfileErasedV1, ProfileMergedV1, ProfileUpdatedV1, SUBJECTS } from '@segmenta/contracts';
import { JetStreamBatchConsumer, NonRetryableMessageError, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { ReadModelService, type ProfilesMessage } from './read-model.service';

const CLASS_BY_TYPE: Record<string, new () => object> = {
  [SUBJECTS.profilesUpdated]: ProfileUpdatedV1,
  [SUBJECTS.profilesActivity]: ProfileActivityV1,
  [SUBJECTS.profilesMerged]: ProfileMergedV1,
  [SUBJECTS.profilesErased]: ProfileErasedV1,
};

/** PROFILES into the read model and real-time membership; acked after commit and publish. */
@Injectable()
export class ReadModelHandler {
  constructor(private readonly readModel: ReadModelService) {}

  @JetStreamBatchConsumer({ stream: 'PROFILES', durable: 'segmentation-profiles', maxBatch: 200 })
  async onProfiles(messages: BatchMessage[]): Promise<void> {
    const parsed = messages.map(({ envelope }) => {
      const type = envelope.type;
      const cls = CLASS_BY_TYPE[type];
      if (!cls) throw new NonRetryableMessageError(`unexpected PROFILES message type ${type}`);
      // Invalid data is not retryable: the batch is then retried one by one and only that message is dead-lettered.
      assertMessageData(cls, envelope.data);
      return { id: envelope.id, type, data: envelope.data } as ProfilesMessage;
    });
    await this.readModel.apply(parsed);
  }
}

/** offers' loyalty.tier_changed into the trait loyalty_tier (issue 19); acked after commit. */
@Injectable()
export class LoyaltyTierHandler {
  constructor(private readonly readModel: ReadModelService) {}

  @JetStreamBatchConsumer({ stream: 'OFFERS', durable: 'segmentation-loyalty-tiers', filterSubjects: [SUBJECTS.loyaltyTierChanged], maxBatch: 200 })
  async onTierChanges(messages: BatchMessage[]): Promise<void> {
    await this.readModel.applyTierChanges(
      messages.map(({ envelope }) => {
        assertMessageData(LoyaltyTierChangedV1, envelope.data);
        return { id: envelope.id, data: envelope.data as LoyaltyTierChangedV1 };
      }),
    );
  }
}
