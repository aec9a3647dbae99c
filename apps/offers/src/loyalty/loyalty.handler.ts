import { Injectable } from '@nestjs/common';
import { ProfileActivityV1, SUBJECTS } from '@segmenta/contracts';
import { JetStreamBatchConsumer, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { LoyaltyService } from './loyalty.service';

/** The durable consumer of profiles.activity that earns points (its own, filtered: the read model's takes the rest of PROFILES). */
export const LOYALTY_ACTIVITY_DURABLE = 'offers-loyalty-activity';

/** Orders into points: each batch acked after the transactions of its orders commit. */
@Injectable()
export class LoyaltyActivityHandler {
  constructor(private readonly loyalty: LoyaltyService) {}

  @JetStreamBatchConsumer({ stream: 'PROFILES', durable: LOYALTY_ACTIVITY_DURABLE, filterSubjects: [SUBJECTS.profilesActivity], maxBatch: 200 })
  async onActivity(messages: BatchMessage[]): Promise<void> {
    const activities = messages.map(({ envelope }) => {
      // Invalid data is not retryable: the batch is retried one by one and only that message is dead-lettered.
      assertMessageData(ProfileActivityV1, envelope.data);
      return { id: envelope.id, data: envelope.data as ProfileActivityV1 };
    });
    await this.loyalty.earnFromActivities(activities);
  }
}
