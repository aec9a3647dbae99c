import { Injectable, Logger } from '@nestjs/common';
import { TrackEventV1, type Envelope } from '@segmenta/contracts';
import { parseMessageData } from '@segmenta/messaging';
import { EventsRepository, type StoredEvent } from './events.repository';

@Injectable()
export class EventsService {
  private readonly logger = new Logger(EventsService.name);

  constructor(private readonly repository: EventsRepository) {}

  /** Stores a tracked event once; a redelivery of the same messageId changes nothing. */
  async recordTrack(envelope: Envelope): Promise<{ stored: boolean }> {
    const event = parseMessageData(TrackEventV1, envelope.data);
    const stored = await this.repository.insertOnce({
      id: event.messageId,
      type: 'track',
      name: event.event,
      userId: event.userId ?? null,
      anonymousId: event.anonymousId ?? null,
      properties: event.properties,
      context: event.context,
      occurredAt: new Date(event.timestamp),
      receivedAt: new Date(event.receivedAt),
    });
    if (!stored) this.logger.debug(`event ${event.messageId} already stored; duplicate ignored`);
    return { stored };
  }

  findEvent(id: string): Promise<StoredEvent | undefined> {
    return this.repository.findById(id);
  }
}
