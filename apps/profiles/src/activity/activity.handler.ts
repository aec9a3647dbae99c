import { Injectable } from '@nestjs/common';
import { SegmentMessageV1 } from '@segmenta/contracts';
import { JetStreamBatchConsumer, parseMessageData, type BatchMessage } from '@segmenta/messaging';
import { ActivityService } from './activity.service';

/** Every Segment call from ingestion, applied in batches; acked only after the batch committed. */
@Injectable()
export class ActivityHandler {
  constructor(private readonly activity: ActivityService) {}

  @JetStreamBatchConsumer({ stream: 'EVENTS', durable: 'profiles-events', maxBatch: 500 })
  async onEvents(messages: BatchMessage[]): Promise<void> {
    // Invalid data throws a non-retryable error: the batch is retried one by one and it alone is dead-lettered.
    await this.activity.apply(messages.map((m) => parseMessageData(SegmentMessageV1, m.envelope.data)));
  }
}
