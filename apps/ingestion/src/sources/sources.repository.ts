import { Inject, Injectable } from '@nestjs/common';
import { asc, eq } from 'drizzle-orm';
import { DATABASE, type Database } from '@segmenta/persistence';
import { sources } from '../db/schema';
import type * as tables from '../db/schema';

export type Source = typeof sources.$inferSelect;

@Injectable()
export class SourcesRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  async insert(source: typeof sources.$inferInsert): Promise<Source> {
    const [row] = await this.database.db.insert(sources).values(source).returning();
    return row;
  }

  async findByKeyHash(writeKeyHash: string): Promise<Source | undefined> {
    const rows = await this.database.db.select().from(sources).where(eq(sources.writeKeyHash, writeKeyHash)).limit(1);
    return rows[0];
  }

  async findById(id: string): Promise<Source | undefined> {
    const rows = await this.database.db.select().from(sources).where(eq(sources.id, id)).limit(1);
    return rows[0];
  }

  list(): Promise<Source[]> {
    return this.database.db.select().from(sources).orderBy(asc(sources.createdAt), asc(sources.id));
  }

  async update(id: string, changes: Partial<Pick<Source, 'name' | 'enabled' | 'writeKeyHash'>>): Promise<Source | undefined> {
    const [row] = await this.database.db.update(sources).set(changes).where(eq(sources.id, id)).returning();
    return row;
  }
}
