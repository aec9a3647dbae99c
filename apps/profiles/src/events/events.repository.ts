import { Inject, Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { DATABASE, type Database } from '@segmenta/persistence';
import { events } from '../db/schema';
import type * as tables from '../db/schema';

export type StoredEvent = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;

@Injectable()
export class EventsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /** Inserts the event unless its id is already stored; true when it was new. */
  async insertOnce(event: NewEvent): Promise<boolean> {
    const inserted = await this.database.db.insert(events).values(event).onConflictDoNothing({ target: events.id }).returning({ id: events.id });
    return inserted.length === 1;
  }

  async findById(id: string): Promise<StoredEvent | undefined> {
    const rows = await this.database.db.select().from(events).where(eq(events.id, id)).limit(1);
    return rows[0];
  }
}
