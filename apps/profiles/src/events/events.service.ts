import { Injectable, Logger } from '@nestjs/common';
import { SegmentMessageV1, type Envelope } from '@segmenta/contracts';
import { parseMessageData } from '@segmenta/messaging';
import { EventsRepository, type StoredEvent } from './events.repository';

@Injectable()
export class EventsService {
  private readonly logger = new Logger(EventsService.name);

  constructor(private readonly repository: EventsRepository) {}

  /** Stores a Segment call once; a redelivery of the same messageId changes nothing. */
  async record(envelope: Envelope): Promise<{ stored: boolean }> {
    const message = parseMessageData(SegmentMessageV1, envelope.data);
    const stored = await this.repository.insertOnce({
      id: message.messageId,
      type: message.type,
      name: message.event ?? message.name ?? null,
      userId: message.userId ?? null,
      anonymousId: message.anonymousId ?? null,
      sourceId: message.sourceId,
      properties: message.properties,
      traits: message.traits,
      context: message.context,
      occurredAt: new Date(message.timestamp),
      receivedAt: new Date(message.receivedAt),
    });
    if (!stored) this.logger.debug(`event ${message.messageId} already stored; duplicate ignored`);
    return { stored };
  }

  findEvent(id: string): Promise<StoredEvent | undefined> {
    return this.repository.findById(id);
  }
}
