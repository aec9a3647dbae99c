import { Injectable } from '@nestjs/common';
import { SUBJECTS, type Envelope } from '@segmenta/contracts';
import { JetStreamConsumer } from '@segmenta/messaging';
import { EventsService } from './events.service';

@Injectable()
export class EventsHandler {
  constructor(private readonly events: EventsService) {}

  /** Raw tracked events from ingestion; acked only after the insert committed. */
  @JetStreamConsumer({ stream: 'EVENTS', durable: 'profiles-events', filterSubjects: [SUBJECTS.event('track')] })
  async onTrack(envelope: Envelope): Promise<void> {
    await this.events.recordTrack(envelope);
  }
}
