import { Injectable } from '@nestjs/common';
import { ProfileErasedV1, ProfileMergedV1, ProfileUpdatedV1, SUBJECTS, SegmentChangedV1, SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { JetStreamBatchConsumer, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { PROFILES_DURABLE, ReadModelService, SEGMENTS_DURABLE, type ProfilesMessage, type SegmentsMessage } from './read-model.service';

const SEGMENTS_CLASSES: Record<string, new () => object> = {
  [SUBJECTS.segmentsEntered]: SegmentMembershipChangedV1,
  [SUBJECTS.segmentsExited]: SegmentMembershipChangedV1,
  [SUBJECTS.segmentsChanged]: SegmentChangedV1,
};

const PROFILES_CLASSES: Record<string, new () => object> = {
  [SUBJECTS.profilesUpdated]: ProfileUpdatedV1,
  [SUBJECTS.profilesMerged]: ProfileMergedV1,
  [SUBJECTS.profilesErased]: ProfileErasedV1,
};

/**
 * Validates and keeps the messages of the types in `classes`; others on the stream (segments.kpis,
 * profiles.activity) are acked untouched: the server here (2.9) takes one filter subject per consumer.
 */
function relevant<T>(messages: BatchMessage[], classes: Record<string, new () => object>): T[] {
  return messages.flatMap(({ envelope }) => {
    const cls = classes[envelope.type];
    if (!cls) return [];
    // Invalid data is not retryable: the batch is retried one by one and only that message is dead-lettered.
    assertMessageData(cls, envelope.data);
    return [{ id: envelope.id, type: envelope.type, data: envelope.data } as T];
  });
}

/** SEGMENTS and PROFILES into offers' read model; each batch acked after its transaction commits. */
@Injectable()
export class ReadModelHandler {
  constructor(private readonly readModel: ReadModelService) {}

  @JetStreamBatchConsumer({ stream: 'SEGMENTS', durable: SEGMENTS_DURABLE, maxBatch: 500 })
  async onSegments(messages: BatchMessage[]): Promise<void> {
    const parsed = relevant<SegmentsMessage>(messages, SEGMENTS_CLASSES);
    if (parsed.length > 0) await this.readModel.applySegments(parsed);
  }

  @JetStreamBatchConsumer({ stream: 'PROFILES', durable: PROFILES_DURABLE, maxBatch: 500 })
  async onProfiles(messages: BatchMessage[]): Promise<void> {
    const parsed = relevant<ProfilesMessage>(messages, PROFILES_CLASSES);
    if (parsed.length > 0) await this.readModel.applyProfiles(parsed);
  }
}
