import { Injectable } from '@nestjs/common';
import { LoyaltyPointsExpiringV1, LoyaltyTierChangedV1, ProfileActivityV1, SUBJECTS, SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { JetStreamBatchConsumer, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { JourneyEnrollmentService, type LoyaltyMessage } from './journey-enrollment.service';

/** Journeys' own durable consumers: the read model's and loyalty's run at their own pace. */
export const JOURNEY_SEGMENTS_DURABLE = 'offers-journeys-segments';
export const JOURNEY_ACTIVITY_DURABLE = 'offers-journeys-activity';
export const JOURNEY_LOYALTY_DURABLE = 'offers-journeys-loyalty';

/** What starts, ends and informs journeys; each batch is acked after its transaction commits. */
@Injectable()
export class JourneyTriggersHandler {
  constructor(private readonly enrollment: JourneyEnrollmentService) {}

  // The server here (2.9) takes one filter subject per consumer: segments.> is filtered here.
  @JetStreamBatchConsumer({ stream: 'SEGMENTS', durable: JOURNEY_SEGMENTS_DURABLE, maxBatch: 500 })
  async onSegments(messages: BatchMessage[]): Promise<void> {
    const changes = messages.flatMap(({ envelope }) => {
      if (envelope.type !== SUBJECTS.segmentsEntered && envelope.type !== SUBJECTS.segmentsExited) return [];
      // Invalid data is not retryable: the batch is retried one by one and only that message is dead-lettered.
      assertMessageData(SegmentMembershipChangedV1, envelope.data);
      return [{ id: envelope.id, data: envelope.data as SegmentMembershipChangedV1 }];
    });
    await this.enrollment.fromSegmentChanges(changes);
  }

  @JetStreamBatchConsumer({ stream: 'PROFILES', durable: JOURNEY_ACTIVITY_DURABLE, filterSubjects: [SUBJECTS.profilesActivity], maxBatch: 500 })
  async onActivity(messages: BatchMessage[]): Promise<void> {
    await this.enrollment.fromActivities(
      messages.map(({ envelope }) => {
        assertMessageData(ProfileActivityV1, envelope.data);
        return { id: envelope.id, data: envelope.data as ProfileActivityV1 };
      }),
    );
  }

  @JetStreamBatchConsumer({ stream: 'OFFERS', durable: JOURNEY_LOYALTY_DURABLE, filterSubjects: ['loyalty.>'], maxBatch: 500 })
  async onLoyalty(messages: BatchMessage[]): Promise<void> {
    const loyalty = messages.flatMap(({ envelope }): LoyaltyMessage[] => {
      if (envelope.type === SUBJECTS.loyaltyTierChanged) {
        assertMessageData(LoyaltyTierChangedV1, envelope.data);
        return [{ id: envelope.id, type: 'tier_changed', data: envelope.data as LoyaltyTierChangedV1 }];
      }
      if (envelope.type === SUBJECTS.loyaltyPointsExpiring) {
        assertMessageData(LoyaltyPointsExpiringV1, envelope.data);
        return [{ id: envelope.id, type: 'points_expiring', data: envelope.data as LoyaltyPointsExpiringV1 }];
      }
      return [];
    });
    await this.enrollment.fromLoyalty(loyalty);
  }
}
