import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { DATABASE, withTransaction, type Database } from '@segmenta/persistence';
import type { OffersTx } from '../catalog/offers.repository';
import * as tables from '../db/schema';
import type { JourneyDefinition } from './journey-definition';

export type JourneyRow = typeof tables.journeys.$inferSelect;
export type JourneyVersionRow = typeof tables.journeyVersions.$inferSelect;
export type JourneyStatus = JourneyRow['status'];
export type ChannelRow = typeof tables.journeyChannels.$inferSelect;
export type NewChannelRow = typeof tables.journeyChannels.$inferInsert;

/** The SQL of journey definitions and their versions. */
@Injectable()
export class JourneysRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  transaction<T>(work: (tx: OffersTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  /** Creates a journey with its first version; undefined when the key is taken. */
  async create(tx: OffersTx, journey: { key: string; name: string; definition: JourneyDefinition; actor: string }): Promise<JourneyRow | undefined> {
    const [row] = await tx.insert(tables.journeys).values({ key: journey.key, name: journey.name }).onConflictDoNothing().returning();
    if (!row) return undefined;
    await tx.insert(tables.journeyVersions).values({ journeyKey: journey.key, version: 1, definition: journey.definition, actor: journey.actor });
    return row;
  }

  /** The journey, locked for a change. */
  async lock(tx: OffersTx, key: string): Promise<JourneyRow | undefined> {
    const [row] = await tx.select().from(tables.journeys).where(eq(tables.journeys.key, key)).limit(1).for('update');
    return row;
  }

  async get(key: string): Promise<JourneyRow | undefined> {
    const [row] = await this.database.db.select().from(tables.journeys).where(eq(tables.journeys.key, key)).limit(1);
    return row;
  }

  async version(key: string, version: number, tx?: OffersTx): Promise<JourneyVersionRow | undefined> {
    const v = tables.journeyVersions;
    const [row] = await (tx ?? this.database.db)
      .select()
      .from(v)
      .where(and(eq(v.journeyKey, key), eq(v.version, version)))
      .limit(1);
    return row;
  }

  /** Saves `definition` as the journey's next version, which new entries run from now on. */
  async addVersion(tx: OffersTx, key: string, definition: JourneyDefinition, actor: string, name: string | undefined): Promise<JourneyRow> {
    const [row] = await tx
      .update(tables.journeys)
      .set({ version: sql`${tables.journeys.version} + 1`, ...(name === undefined ? {} : { name }), updatedAt: sql`now()` })
      .where(eq(tables.journeys.key, key))
      .returning();
    await tx.insert(tables.journeyVersions).values({ journeyKey: key, version: row.version, definition, actor });
    return row;
  }

  async rename(tx: OffersTx, key: string, name: string): Promise<JourneyRow> {
    const [row] = await tx
      .update(tables.journeys)
      .set({ name, updatedAt: sql`now()` })
      .where(eq(tables.journeys.key, key))
      .returning();
    return row;
  }

  async setStatus(tx: OffersTx, key: string, status: JourneyStatus): Promise<JourneyRow> {
    const [row] = await tx
      .update(tables.journeys)
      .set({ status, updatedAt: sql`now()` })
      .where(eq(tables.journeys.key, key))
      .returning();
    return row;
  }

  /** Journeys in key order after `after`, optionally of one status. */
  async list(limit: number, after: string | undefined, status: JourneyStatus | undefined): Promise<JourneyRow[]> {
    const j = tables.journeys;
    return this.database.db
      .select()
      .from(j)
      .where(and(after === undefined ? undefined : gt(j.key, after), status === undefined ? undefined : eq(j.status, status)))
      .orderBy(asc(j.key))
      .limit(limit);
  }

  /** A journey's versions, newest first. */
  async versions(key: string): Promise<JourneyVersionRow[]> {
    const v = tables.journeyVersions;
    return this.database.db.select().from(v).where(eq(v.journeyKey, key)).orderBy(desc(v.version));
  }

  async channel(key: string, tx?: OffersTx): Promise<ChannelRow | undefined> {
    const [row] = await (tx ?? this.database.db).select().from(tables.journeyChannels).where(eq(tables.journeyChannels.key, key)).limit(1);
    return row;
  }

  async putChannel(tx: OffersTx, row: NewChannelRow): Promise<ChannelRow> {
    const { key, ...rest } = row;
    const [saved] = await tx
      .insert(tables.journeyChannels)
      .values(row)
      .onConflictDoUpdate({ target: tables.journeyChannels.key, set: { ...rest, updatedAt: sql`now()` } })
      .returning();
    return saved ?? (await this.channel(key, tx));
  }

  async channels(): Promise<ChannelRow[]> {
    return this.database.db.select().from(tables.journeyChannels).orderBy(asc(tables.journeyChannels.key));
  }

  async deleteChannel(key: string): Promise<boolean> {
    const rows = await this.database.db.delete(tables.journeyChannels).where(eq(tables.journeyChannels.key, key)).returning({ key: tables.journeyChannels.key });
    return rows.length > 0;
  }
}
