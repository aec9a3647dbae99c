import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, inArray, or, sql } from 'drizzle-orm';
import { DATABASE, type Database, type Db } from '@segmenta/persistence';
import * as tables from '../db/schema';

export type ProfileRecord = typeof tables.profiles.$inferSelect;
export type IdentityRecord = typeof tables.identities.$inferSelect;
export type MergeRecord = typeof tables.merges.$inferSelect;
export type FeatureRecord = typeof tables.profileFeatures.$inferSelect;

/** Reads of profiles and the erasure's deletes. */
@Injectable()
export class ProfilesRepository {
  constructor(@Inject(DATABASE) readonly database: Database<typeof tables>) {}

  async findProfile(id: string): Promise<ProfileRecord | undefined> {
    const rows = await this.database.db.select().from(tables.profiles).where(eq(tables.profiles.id, id)).limit(1);
    return rows[0];
  }

  async findByIdentity(kind: string, value: string): Promise<string | undefined> {
    const rows = await this.database.db
      .select({ profileId: tables.identities.profileId })
      .from(tables.identities)
      .where(and(eq(tables.identities.kind, kind), eq(tables.identities.value, value)))
      .limit(1);
    return rows[0]?.profileId;
  }

  identitiesOf(profileId: string): Promise<IdentityRecord[]> {
    return this.database.db.select().from(tables.identities).where(eq(tables.identities.profileId, profileId)).orderBy(asc(tables.identities.kind), asc(tables.identities.value));
  }

  async featuresOf(profileId: string): Promise<FeatureRecord | undefined> {
    const rows = await this.database.db.select().from(tables.profileFeatures).where(eq(tables.profileFeatures.profileId, profileId)).limit(1);
    return rows[0];
  }

  async mergedInto(profileId: string, db: Pick<Db, 'select'> = this.database.db): Promise<string[]> {
    const rows = await db.select({ id: tables.profiles.id }).from(tables.profiles).where(eq(tables.profiles.mergedInto, profileId)).orderBy(asc(tables.profiles.id));
    return rows.map((r) => r.id);
  }

  /**
   * The erasure's deletes, inside the caller's transaction (which has locked the profile): the
   * profile's events, identifiers and features, the merge history of it and of the profiles merged
   * into it, and every one of those profiles reduced to a tombstone.
   */
  async erase(
    tx: Pick<Db<typeof tables>, 'select' | 'delete' | 'update'>,
    profileId: string,
    erasedAt: Date,
  ): Promise<{ merged: string[]; eventsDeleted: number; identitiesDeleted: number; eventStreamSeqs: number[]; identifierValues: string[] }> {
    const merged = await this.mergedInto(profileId, tx);
    const all = [profileId, ...merged];
    const events = await tx.delete(tables.events).where(eq(tables.events.profileId, profileId)).returning({ streamSeq: tables.events.streamSeq });
    const identities = await tx.delete(tables.identities).where(eq(tables.identities.profileId, profileId)).returning({ value: tables.identities.value });
    await tx.delete(tables.profileFeatures).where(eq(tables.profileFeatures.profileId, profileId));
    await tx.delete(tables.merges).where(or(inArray(tables.merges.fromProfileId, all), inArray(tables.merges.intoProfileId, all)));
    await tx
      .update(tables.profiles)
      .set({ traits: {}, traitTimes: {}, erasedAt, updatedAt: sql`now()` })
      .where(inArray(tables.profiles.id, all));
    return {
      merged,
      eventsDeleted: events.length,
      identitiesDeleted: identities.length,
      eventStreamSeqs: events.flatMap((e) => (e.streamSeq === null ? [] : [e.streamSeq])),
      identifierValues: identities.map((i) => i.value),
    };
  }

  /** Merges done and refused that involve the profile or any profile merged into it, newest first. */
  mergeHistory(profileIds: string[]): Promise<MergeRecord[]> {
    return this.database.db
      .select()
      .from(tables.merges)
      .where(or(inArray(tables.merges.intoProfileId, profileIds), inArray(tables.merges.fromProfileId, profileIds)))
      .orderBy(desc(tables.merges.at), desc(tables.merges.id))
      .limit(1000);
  }
}
