import { Injectable } from '@nestjs/common';
import { SUBJECTS, SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { JetStreamBatchConsumer, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { ExperimentsRepository } from './experiments.repository';

export const EXPERIMENTS_MEMBERSHIPS_DURABLE = 'experiments-memberships';

/** Segment memberships for targeting (segments.entered / exited); each batch acked after its transaction commits. */
@Injectable()
export class MembershipsHandler {
  constructor(private readonly repository: ExperimentsRepository) {}

  // The server here (2.9) takes one filter subject per consumer: segments.> is filtered here.
  @JetStreamBatchConsumer({ stream: 'SEGMENTS', durable: EXPERIMENTS_MEMBERSHIPS_DURABLE, maxBatch: 500 })
  async onSegments(messages: BatchMessage[]): Promise<void> {
    const changes = messages.flatMap(({ envelope }) => {
      if (envelope.type !== SUBJECTS.segmentsEntered && envelope.type !== SUBJECTS.segmentsExited) return [];
      // Invalid data is not retryable: the batch is retried one by one and only that message is dead-lettered.
      assertMessageData(SegmentMembershipChangedV1, envelope.data);
      const data = envelope.data as SegmentMembershipChangedV1;
      return [{ segmentKey: data.segmentKey, profileId: data.profileId, member: data.change === 'entered', seq: data.seq }];
    });
    if (changes.length > 0) await this.repository.transaction((tx) => this.repository.applyMemberships(tx, changes));
  }
}
