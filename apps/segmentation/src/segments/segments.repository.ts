import { Inject, Injectable } from '@nestjs/common';
import { asc, eq, sql } from 'drizzle-orm';
import { DATABASE, jsonParam, queryRows, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';

export type SegmentRow = typeof tables.segments.$inferSelect;

/** Segment definitions and the read side of memberships and their log. */
@Injectable()
export class SegmentsRepository {
  constructor(@Inject(DATABASE) readonly database: Database<typeof tables>) {}

  all(): Promise<SegmentRow[]> {
    return this.database.db.select().from(tables.segments).orderBy(asc(tables.segments.key));
  }

  async byIdOrKey(idOrKey: string): Promise<SegmentRow | undefined> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrKey);
    const rows = await this.database.db
      .select()
      .from(tables.segments)
      .where(isUuid ? eq(tables.segments.id, idOrKey) : eq(tables.segments.key, idOrKey))
      .limit(1);
    return rows[0];
  }

  async insert(row: typeof tables.segments.$inferInsert): Promise<SegmentRow | undefined> {
    const rows = await this.database.db.insert(tables.segments).values(row).onConflictDoNothing({ target: tables.segments.key }).returning();
    return rows[0];
  }

  /**
   * Creates the built-ins never created before, with a marker per key in the same transaction:
   * replicas starting together create each once, and one an admin deleted is not brought back.
   */
  async seedBuiltins(rows: Array<typeof tables.segments.$inferInsert>): Promise<number> {
    if (rows.length === 0) return 0;
    return this.database.db.transaction(async (tx) => {
      const fresh = await tx
        .insert(tables.builtinSegmentsSeeded)
        .values(rows.map((r) => ({ key: r.key })))
        .onConflictDoNothing()
        .returning({ key: tables.builtinSegmentsSeeded.key });
      const keys = new Set(fresh.map((f) => f.key));
      const toCreate = rows.filter((r) => keys.has(r.key));
      if (toCreate.length === 0) return 0;
      const created = await tx.insert(tables.segments).values(toCreate).onConflictDoNothing({ target: tables.segments.key }).returning({ id: tables.segments.id });
      return created.length;
    });
  }

  async update(id: string, changes: Partial<typeof tables.segments.$inferInsert>): Promise<SegmentRow> {
    const rows = await this.database.db.update(tables.segments).set({ ...changes, updatedAt: new Date() }).where(eq(tables.segments.id, id)).returning();
    return rows[0];
  }

  async delete(id: string): Promise<void> {
    await this.database.db.transaction(async (tx) => {
      await tx.delete(tables.memberships).where(eq(tables.memberships.segmentId, id));
      await tx.delete(tables.segments).where(eq(tables.segments.id, id));
    });
  }

  async sizes(): Promise<Map<string, number>> {
    const rows = await queryRows<{ segment_id: string; n: number }>(this.database.db, sql`select segment_id, count(*)::int as n from segmentation.memberships group by segment_id`);
    return new Map(rows.map((r) => [r.segment_id, r.n]));
  }

  /** One segment's size: an index range of the primary key, not a count of every membership. */
  async size(segmentId: string): Promise<number> {
    const [row] = await queryRows<{ n: number }>(this.database.db, sql`select count(*)::int as n from segmentation.memberships where segment_id = ${segmentId}`);
    return row.n;
  }

  /** Members in profile id order after `after`. */
  members(segmentId: string, after: string | undefined, limit: number): Promise<Array<{ profile_id: string; since: string | Date }>> {
    return queryRows(
      this.database.db,
      sql`select profile_id, since from segmentation.memberships where segment_id = ${segmentId} ${after ? sql`and profile_id > ${after}::uuid` : sql``} order by profile_id limit ${limit}`,
    );
  }

  changes(segmentId: string, after: number, limit: number): Promise<Array<{ seq: string | number; profile_id: string; change: 'entered' | 'exited'; segment_version: number; at: string | Date }>> {
    return queryRows(
      this.database.db,
      sql`select seq, profile_id, change, segment_version, at from segmentation.membership_changes where segment_id = ${segmentId} and seq > ${after} order by seq limit ${limit}`,
    );
  }

  segmentsOf(profileId: string): Promise<Array<{ id: string; key: string; name: string; kind: string; since: string | Date }>> {
    return queryRows(
      this.database.db,
      sql`select s.id, s.key, s.name, s.kind, m.since from segmentation.memberships m join segmentation.segments s on s.id = m.segment_id where m.profile_id = ${profileId} order by s.key`,
    );
  }

  /** Pairwise intersections of the given segments' memberships. */
  overlap(segmentIds: string[]): Promise<Array<{ a: string; b: string; n: number }>> {
    return queryRows(
      this.database.db,
      sql`with s as (select json_array_elements_text(${jsonParam(segmentIds)}::json)::uuid as id)
        select a.segment_id as a, b.segment_id as b, count(*)::int as n from segmentation.memberships a join segmentation.memberships b on a.profile_id = b.profile_id
        where a.segment_id in (select id from s) and b.segment_id in (select id from s) and a.segment_id <= b.segment_id group by 1, 2`,
    );
  }

  /** Size at the end of each day, from the change log. */
  sizeHistory(segmentId: string, days: number): Promise<Array<{ day: string; size: number }>> {
    return queryRows(
      this.database.db,
      sql`with d as (select date_trunc('day', at) as day, sum(case when change = 'entered' then 1 else -1 end) as delta
          from segmentation.membership_changes where segment_id = ${segmentId} group by 1)
        select to_char(day, 'YYYY-MM-DD') as day, (sum(delta) over (order by day))::int as size from d order by day desc limit ${days}`,
    );
  }
}
