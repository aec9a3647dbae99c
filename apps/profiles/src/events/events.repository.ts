import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lt, or } from 'drizzle-orm';
import { DATABASE, type Database } from '@segmenta/persistence';
import { events } from '../db/schema';
import type * as tables from '../db/schema';

export type StoredEvent = typeof events.$inferSelect;

@Injectable()
export class EventsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /** The event with this messageId from `sourceId`, or from any source (the first stored) without it. */
  async findById(id: string, sourceId?: string): Promise<StoredEvent | undefined> {
    const rows = await this.database.db
      .select()
      .from(events)
      .where(sourceId === undefined ? eq(events.id, id) : and(eq(events.id, id), eq(events.sourceId, sourceId)))
      .orderBy(events.storedAt, events.sourceId)
      .limit(1);
    return rows[0];
  }

  /** Newest first; keyset pagination on (occurred_at, id) so pages stay stable while events arrive. */
  listForProfile(profileId: string, limit: number, after?: { occurredAt: Date; id: string }): Promise<StoredEvent[]> {
    const position = after ? or(lt(events.occurredAt, after.occurredAt), and(eq(events.occurredAt, after.occurredAt), lt(events.id, after.id))) : undefined;
    return this.database.db
      .select()
      .from(events)
      .where(and(eq(events.profileId, profileId), position))
      .orderBy(desc(events.occurredAt), desc(events.id))
      .limit(limit);
  }
}
