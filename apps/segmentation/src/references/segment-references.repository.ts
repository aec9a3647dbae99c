import { Inject, Injectable } from '@nestjs/common';
import { arrayContains, sql } from 'drizzle-orm';
import { DATABASE, type Database } from '@segmenta/persistence';
import type { SegmentReferencesV1 } from '@segmenta/contracts';
import * as tables from '../db/schema';

export interface SegmentUser {
  service: string;
  ownerKind: string;
  ownerId: string;
  ownerName: string;
}

/** The reference table: which offers, journeys and experiments target a segment. */
@Injectable()
export class SegmentReferencesRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /** Replaces an owner's references unless a newer revision is already stored; true when applied. */
  async apply(refs: SegmentReferencesV1): Promise<boolean> {
    const t = tables.segmentReferences;
    const rows = await this.database.db
      .insert(t)
      .values({ service: refs.service, ownerKind: refs.ownerKind, ownerId: refs.ownerId, ownerName: refs.ownerName, segmentKeys: [...new Set(refs.segmentKeys)], revision: refs.revision })
      .onConflictDoUpdate({
        target: [t.service, t.ownerKind, t.ownerId],
        set: { ownerName: sql`excluded.owner_name`, segmentKeys: sql`excluded.segment_keys`, revision: sql`excluded.revision`, updatedAt: sql`now()` },
        setWhere: sql`excluded.revision >= ${t.revision}`,
      })
      .returning({ service: t.service });
    return rows.length > 0;
  }

  usersOf(segmentKey: string): Promise<SegmentUser[]> {
    const t = tables.segmentReferences;
    return this.database.db
      .select({ service: t.service, ownerKind: t.ownerKind, ownerId: t.ownerId, ownerName: t.ownerName })
      .from(t)
      .where(arrayContains(t.segmentKeys, [segmentKey]))
      .orderBy(t.service, t.ownerKind, t.ownerName);
  }
}
