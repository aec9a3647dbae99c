import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, desc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { CustomerIdentifiersV1 } from '@segmenta/contracts';
import { DATABASE, compiledSql, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';

export type SegmentRow = typeof tables.segments.$inferSelect;
/** A transaction of segmentation's database (a segment change and its outbox message commit together). */
export type SegmentsTx = Parameters<Parameters<Database<typeof tables>['db']['transaction']>[0]>[0];

/** Segment definitions and the read side of memberships and their log. */
@Injectable()
export class SegmentsRepository {
  constructor(@Inject(DATABASE) readonly database: Database<typeof tables>) {}

  /** Runs `work` in one transaction (retried on serialization failures). */
  transaction<T>(work: (tx: SegmentsTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  /**
   * Who a compiled rule query (the segment-rules compiler's text and values, selecting
   * `pv.profile_id`) selects now: how many, the first `sample` ids, and how many profiles there are.
   */
  async preview(query: { text: string; values: readonly unknown[] }, sample: number): Promise<{ count: number; sample: Array<{ profileId: string } & CustomerIdentifiersV1>; totalProfiles: number }> {
    const db = this.database.db;
    const [counted] = await queryRows<{ n: number }>(db, compiledSql(`select count(*)::int as n from (${query.text}) q`, query.values));
    const ids = sample > 0 ? await queryRows<{ profile_id: string }>(db, compiledSql(`${query.text} order by pv.profile_id limit ${Number(sample)}`, query.values)) : [];
    const pv = tables.profileView;
    const known = ids.length
      ? await db
          .select({ profileId: pv.profileId, identifiers: pv.identifiers })
          .from(pv)
          .where(
            inArray(
              pv.profileId,
              ids.map((r) => r.profile_id),
            ),
          )
      : [];
    const identifiers = new Map(known.map((k) => [k.profileId, k.identifiers]));
    const [total] = await db.select({ n: count() }).from(pv);
    return { count: counted.n, sample: ids.map((r) => ({ profileId: r.profile_id, ...identifiers.get(r.profile_id) })), totalProfiles: total.n };
  }

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

  async insert(row: typeof tables.segments.$inferInsert, tx: SegmentsTx | Database<typeof tables>['db'] = this.database.db): Promise<SegmentRow | undefined> {
    const rows = await tx.insert(tables.segments).values(row).onConflictDoNothing({ target: tables.segments.key }).returning();
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

  async update(id: string, changes: Partial<typeof tables.segments.$inferInsert>, tx: SegmentsTx | Database<typeof tables>['db'] = this.database.db): Promise<SegmentRow> {
    const rows = await tx
      .update(tables.segments)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(tables.segments.id, id))
      .returning();
    return rows[0];
  }

  /** Deletes a segment and its memberships, in the caller's transaction. */
  async delete(id: string, tx: SegmentsTx): Promise<void> {
    await tx.delete(tables.memberships).where(eq(tables.memberships.segmentId, id));
    await tx.delete(tables.segments).where(eq(tables.segments.id, id));
  }

  async sizes(): Promise<Map<string, number>> {
    const m = tables.memberships;
    const rows = await this.database.db.select({ segmentId: m.segmentId, n: count() }).from(m).groupBy(m.segmentId);
    return new Map(rows.map((r) => [r.segmentId, r.n]));
  }

  /** One segment's size: an index range of the primary key, not a count of every membership. */
  async size(segmentId: string): Promise<number> {
    const [row] = await this.database.db.select({ n: count() }).from(tables.memberships).where(eq(tables.memberships.segmentId, segmentId));
    return row.n;
  }

  /** Members in profile id order after `after`. */
  members(segmentId: string, after: string | undefined, limit: number): Promise<Array<{ profile_id: string; since: string | Date; identifiers: CustomerIdentifiersV1 | null }>> {
    const m = tables.memberships;
    const pv = tables.profileView;
    return this.database.db
      .select({ profile_id: m.profileId, since: m.since, identifiers: pv.identifiers })
      .from(m)
      .leftJoin(pv, eq(pv.profileId, m.profileId))
      .where(and(eq(m.segmentId, segmentId), after ? gt(m.profileId, after) : undefined))
      .orderBy(asc(m.profileId))
      .limit(limit);
  }

  changes(segmentId: string, after: number, limit: number): Promise<Array<{ seq: string | number; profile_id: string; change: 'entered' | 'exited'; segment_version: number; at: string | Date }>> {
    const c = tables.membershipChanges;
    return this.database.db
      .select({ seq: c.seq, profile_id: c.profileId, change: c.change, segment_version: c.segmentVersion, at: c.at })
      .from(c)
      .where(and(eq(c.segmentId, segmentId), gt(c.seq, after)))
      .orderBy(asc(c.seq))
      .limit(limit);
  }

  segmentsOf(profileId: string): Promise<Array<{ id: string; key: string; name: string; kind: string; since: string | Date }>> {
    const { memberships: m, segments: s } = tables;
    return this.database.db
      .select({ id: s.id, key: s.key, name: s.name, kind: s.kind, since: m.since })
      .from(m)
      .innerJoin(s, eq(s.id, m.segmentId))
      .where(eq(m.profileId, profileId))
      .orderBy(asc(s.key));
  }

  /** Pairwise intersections of the given segments' memberships. */
  overlap(segmentIds: string[]): Promise<Array<{ a: string; b: string; n: number }>> {
    const a = alias(tables.memberships, 'a');
    const b = alias(tables.memberships, 'b');
    return this.database.db
      .select({ a: a.segmentId, b: b.segmentId, n: count() })
      .from(a)
      .innerJoin(b, eq(a.profileId, b.profileId))
      .where(and(inArray(a.segmentId, segmentIds), inArray(b.segmentId, segmentIds), lte(a.segmentId, b.segmentId)))
      .groupBy(a.segmentId, b.segmentId);
  }

  /** Size at the end of each day: the running sum of each day's entries minus exits in the change log. */
  async sizeHistory(segmentId: string, days: number): Promise<Array<{ day: string; size: number }>> {
    const db = this.database.db;
    const c = tables.membershipChanges;
    const daily = db.$with('daily').as(
      db
        .select({ day: sql<Date>`date_trunc('day', ${c.at})`.as('day'), delta: sql<number>`sum(case when ${c.change} = 'entered' then 1 else -1 end)`.as('delta') })
        .from(c)
        .where(eq(c.segmentId, segmentId))
        .groupBy(sql`1`),
    );
    return db
      .with(daily)
      .select({ day: sql<string>`to_char(${daily.day}, 'YYYY-MM-DD')`, size: sql<number>`(sum(${daily.delta}) over (order by ${daily.day}))::int`.mapWith(Number) })
      .from(daily)
      .orderBy(desc(daily.day))
      .limit(days);
  }
}
