import { Inject, Injectable } from '@nestjs/common';
import { desc, eq, gte, sql, type SQL } from 'drizzle-orm';
import type { SegmentKpiMetrics } from '@segmenta/contracts';
import { DATABASE, type Database, type Db } from '@segmenta/persistence';
import * as tables from '../db/schema';

const DAY_MS = 86_400_000;

const p = tables.profileView;

/** A feature of the profile view as a number, or null when it is missing or not a number. */
const num = (key: string) => sql<number | null>`(case when jsonb_typeof(${p.features} -> ${key}::text) = 'number' then (${p.features} ->> ${key}::text)::float8 end)`;
const countInt = (condition?: SQL) => (condition ? sql<number>`(count(*) filter (where ${condition}))::int` : sql<number>`count(*)::int`);

/** KPI snapshots: computed set-based over memberships and the profile view, stored per segment. */
@Injectable()
export class SegmentKpisRepository {
  constructor(@Inject(DATABASE) readonly database: Database<typeof tables>) {}

  /**
   * Every active segment's metrics at `at`, against its previous snapshot: one statement.
   * Stability counts as still-members those whose membership began before the previous snapshot.
   */
  async compute(at: Date): Promise<Array<{ segment_id: string; key: string; metrics: SegmentKpiMetrics }>> {
    const db = this.database.db;
    const { memberships: m, kpiSnapshots: k, behaviourFacts: f, segments: s } = tables;
    const since30 = new Date(at.getTime() - 30 * DAY_MS);
    const pop = db.$with('pop').as(db.select({ customers: countInt().as('customers'), totalRevenue: sql<number | null>`sum(greatest(${num('revenue')}, 0))`.as('total_revenue') }).from(p));
    // The latest snapshot of each segment.
    const prev = db.$with('prev').as(
      db
        .selectDistinctOn([k.segmentId], { segmentId: k.segmentId, at: k.at, size: sql<number>`(${k.metrics} ->> 'size')::int`.as('prev_size') })
        .from(k)
        .orderBy(k.segmentId, desc(k.at)),
    );
    const engaged = db.$with('engaged').as(db.selectDistinct({ profileId: f.profileId }).from(f).where(gte(f.occurredAt, since30)));
    const per = db.$with('per').as(
      db
        .select({
          segmentId: m.segmentId,
          size: countInt().as('size'),
          revenue: sql<number | null>`sum(greatest(${num('revenue')}, 0))`.as('revenue'),
          buyers: countInt(sql`${num('orders')} >= 1`).as('buyers'),
          repeaters: countInt(sql`${num('orders')} >= 2`).as('repeaters'),
          converted: countInt(sql`${num('recency_days')} <= 30`).as('converted'),
          aov: sql<number | null>`avg(${num('aov')}) filter (where ${num('orders')} >= 1)`.as('aov'),
          clv: sql<number | null>`avg(${num('clv')})`.as('clv'),
          lapsed: countInt(sql`${p.features} ->> 'lifecycle_stage' = 'lapsed'`).as('lapsed'),
          staged: countInt(sql`${p.features} ? 'lifecycle_stage'`).as('staged'),
          engaged: sql<number>`count(${engaged.profileId})::int`.as('engaged'),
          stayed: countInt(sql`${m.since} <= ${prev.at}`).as('stayed'),
        })
        .from(m)
        .innerJoin(p, eq(p.profileId, m.profileId))
        .leftJoin(engaged, eq(engaged.profileId, m.profileId))
        .leftJoin(prev, eq(prev.segmentId, m.segmentId))
        .groupBy(m.segmentId),
    );
    const zeroIfNone = (column: SQL.Aliased<number>) => sql<number>`coalesce(${column}, 0)`.mapWith(Number);
    const rows = await db
      .with(pop, prev, engaged, per)
      .select({
        segmentId: s.id,
        key: s.key,
        size: zeroIfNone(per.size),
        revenue: per.revenue,
        buyers: zeroIfNone(per.buyers),
        repeaters: zeroIfNone(per.repeaters),
        converted: zeroIfNone(per.converted),
        aov: per.aov,
        clv: per.clv,
        lapsed: zeroIfNone(per.lapsed),
        staged: zeroIfNone(per.staged),
        engaged: zeroIfNone(per.engaged),
        stayed: zeroIfNone(per.stayed),
        prevSize: prev.size,
        customers: pop.customers,
        totalRevenue: pop.totalRevenue,
      })
      .from(s)
      .crossJoin(pop)
      .leftJoin(per, eq(per.segmentId, s.id))
      .leftJoin(prev, eq(prev.segmentId, s.id))
      .where(eq(s.status, 'active'))
      .orderBy(s.key);
    const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);
    const orNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
    return rows.map((r) => {
      const previous = orNull(r.prevSize);
      const union = previous === null ? 0 : previous + r.size - r.stayed;
      return {
        segment_id: r.segmentId,
        key: r.key,
        metrics: {
          size: r.size,
          customerShare: rate(r.size, Number(r.customers)) ?? 0,
          revenueShare: rate(Number(r.revenue ?? 0), Number(r.totalRevenue ?? 0)) ?? 0,
          growth: previous === null ? null : previous > 0 ? (r.size - previous) / previous : null,
          conversionRate: rate(r.converted, r.size),
          aov: orNull(r.aov),
          repeatPurchaseRate: rate(r.repeaters, r.buyers),
          meanClv: orNull(r.clv),
          churnRate: rate(r.lapsed, r.staged),
          engagementRate: rate(r.engaged, r.size),
          stability: previous === null ? null : union > 0 ? r.stayed / union : 1,
        },
      };
    });
  }

  async store(at: Date, snapshots: Array<{ segment_id: string; metrics: SegmentKpiMetrics }>, tx: Pick<Db, 'insert'> = this.database.db): Promise<void> {
    if (snapshots.length === 0) return;
    const k = tables.kpiSnapshots;
    // A few hundred segments at most: three parameters a row stays far below PostgreSQL's limit.
    await tx
      .insert(k)
      .values(snapshots.map((snapshot) => ({ segmentId: snapshot.segment_id, at, metrics: snapshot.metrics as unknown as Record<string, number | null> })))
      .onConflictDoUpdate({ target: [k.segmentId, k.at], set: { metrics: sql`excluded.metrics` } });
  }

  /** A segment's snapshots, newest first. */
  async history(segmentId: string, limit: number): Promise<Array<{ at: string | Date; metrics: SegmentKpiMetrics }>> {
    const k = tables.kpiSnapshots;
    const rows = await this.database.db.select({ at: k.at, metrics: k.metrics }).from(k).where(eq(k.segmentId, segmentId)).orderBy(desc(k.at)).limit(limit);
    // The column holds what store() wrote: SegmentKpiMetrics.
    return rows.map((r) => ({ at: r.at, metrics: r.metrics as unknown as SegmentKpiMetrics }));
  }
}
