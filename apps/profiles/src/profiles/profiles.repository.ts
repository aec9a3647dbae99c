import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, inArray, or } from 'drizzle-orm';
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
