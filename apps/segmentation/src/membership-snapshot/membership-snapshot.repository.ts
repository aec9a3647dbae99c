import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { MembershipHeadV1, MembershipSnapshotRowV1 } from '@segmenta/contracts';
import { DATABASE, queryRows, type Database } from '@segmenta/persistence';
import type * as tables from '../db/schema';

/** Reads of memberships and the change log for read models of other services (request/reply). */
@Injectable()
export class MembershipSnapshotRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  async head(): Promise<MembershipHeadV1> {
    const [row] = await queryRows<{ seq: string | number; at: string | Date }>(this.database.db, sql`select seq, at from segmentation.membership_changes order by seq desc limit 1`);
    const segments = await queryRows<{ segmentId: string; key: string; name: string }>(this.database.db, sql`select id as "segmentId", key, name from segmentation.segments order by key`);
    return row ? { seq: Number(row.seq), at: new Date(row.at).toISOString(), segments } : { seq: 0, at: null, segments };
  }

  /**
   * Up to `limit` memberships after the cursor in (segment_id, profile_id) order, each with the seq
   * of its pair's last logged change (0 when none is logged), read in one statement.
   */
  async page(after: { segmentId: string; profileId: string } | undefined, limit: number): Promise<MembershipSnapshotRowV1[]> {
    const cursor = after ? sql`where (m.segment_id, m.profile_id) > (${after.segmentId}::uuid, ${after.profileId}::uuid)` : sql``;
    const rows = await queryRows<{ segment_id: string; segment_key: string; profile_id: string; seq: string | number }>(
      this.database.db,
      sql`select m.segment_id, s.key as segment_key, m.profile_id,
            coalesce((select max(c.seq) from segmentation.membership_changes c where c.profile_id = m.profile_id and c.segment_id = m.segment_id), 0) as seq
          from segmentation.memberships m join segmentation.segments s on s.id = m.segment_id
          ${cursor}
          order by m.segment_id, m.profile_id limit ${limit}`,
    );
    return rows.map((r) => ({ segmentId: r.segment_id, segmentKey: r.segment_key, profileId: r.profile_id, seq: Number(r.seq) }));
  }
}
