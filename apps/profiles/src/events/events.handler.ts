import { Injectable } from '@nestjs/common';
import type { Envelope } from '@segmenta/contracts';
import { JetStreamConsumer } from '@segmenta/messaging';
import { EventsService } from './events.service';

@Injectable()
export class EventsHandler {
  constructor(private readonly events: EventsService) {}

  /** Every Segment call from ingestion; acked only after the insert committed. */
  @JetStreamConsumer({ stream: 'EVENTS', durable: 'profiles-events' })
  async onEvent(envelope: Envelope): Promise<void> {
    await this.events.record(envelope);
  }
}
