import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq } from 'drizzle-orm';
import { DATABASE, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';

const { identityBlocklist } = tables;

export type BlocklistRecord = typeof identityBlocklist.$inferSelect;

/** The block list entries added through the admin API. */
@Injectable()
export class BlocklistRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  list(): Promise<BlocklistRecord[]> {
    return this.database.db.select().from(identityBlocklist).orderBy(asc(identityBlocklist.kind), asc(identityBlocklist.value));
  }

  /** Adds an entry, or replaces the reason of an existing one. */
  async upsert(kind: string, value: string, reason: string | null): Promise<void> {
    await this.database.db
      .insert(identityBlocklist)
      .values({ kind, value, reason })
      .onConflictDoUpdate({ target: [identityBlocklist.kind, identityBlocklist.value], set: { reason } });
  }

  /** Deletes an entry; false when there was none. */
  async delete(kind: string, value: string): Promise<boolean> {
    const removed = await this.database.db
      .delete(identityBlocklist)
      .where(and(eq(identityBlocklist.kind, kind), eq(identityBlocklist.value, value)))
      .returning({ kind: identityBlocklist.kind });
    return removed.length > 0;
  }
}
