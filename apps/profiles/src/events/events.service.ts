import { Injectable } from '@nestjs/common';
import { EventsRepository, type StoredEvent } from './events.repository';

/** Reads of the event log (written by the activity pipeline). */
@Injectable()
export class EventsService {
  constructor(private readonly repository: EventsRepository) {}

  findEvent(id: string, sourceId?: string): Promise<StoredEvent | undefined> {
    return this.repository.findById(id, sourceId);
  }

  listForProfile(profileId: string, limit: number, after?: { occurredAt: Date; id: string }): Promise<StoredEvent[]> {
    return this.repository.listForProfile(profileId, limit, after);
  }
}
