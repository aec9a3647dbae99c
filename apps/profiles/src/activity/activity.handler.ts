import { Injectable } from '@nestjs/common';
import { segmentMessageProblems, type SegmentMessageV1 } from '@segmenta/contracts';
import { JetStreamBatchConsumer, NonRetryableMessageError, type BatchMessage } from '@segmenta/messaging';
import { ActivityService } from './activity.service';

/** Every Segment call from ingestion, applied in batches; acked only after the batch committed and its messages were published. */
@Injectable()
export class ActivityHandler {
  constructor(private readonly activity: ActivityService) {}

  // Two batches at once, as two replicas would (identifiers and profiles are locked in a fixed
  // order, so they serialise only where they touch the same customers): while one waits for
  // PostgreSQL the other uses the CPU.
  @JetStreamBatchConsumer({ stream: 'EVENTS', durable: 'profiles-events', maxBatch: 500, concurrency: 2 })
  async onEvents(messages: BatchMessage[]): Promise<void> {
    const calls = messages.map(({ envelope, context }) => {
      const problems = segmentMessageProblems(envelope.data);
      // Not retryable: the batch is then retried one by one and only this message is dead-lettered.
      if (problems.length > 0) throw new NonRetryableMessageError(`SegmentMessageV1 invalid: ${problems.join('; ')}`);
      // The stream sequence goes with the stored event: erasing the customer deletes the message from EVENTS too.
      return { ...(envelope.data as SegmentMessageV1), streamSeq: context.streamSequence };
    });
    await this.activity.apply(calls);
  }
}
