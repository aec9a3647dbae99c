import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { SegmentKpiMetrics } from '@segmenta/contracts';
import { DATABASE, jsonParam, queryRows, type Database } from '@segmenta/persistence';
import type * as tables from '../db/schema';

const DAY_MS = 86_400_000;

/** A feature of the profile view as a number, or null when it is missing or not a number. */
const num = (key: string) => sql.raw(`(case when jsonb_typeof(p.features -> '${key}') = 'number' then (p.features ->> '${key}')::float8 end)`);

/** KPI snapshots: computed set-based over memberships and the profile view, stored per segment. */
@Injectable()
export class SegmentKpisRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /**
   * Every active segment's metrics at `at`, against its previous snapshot: one statement.
   * Stability counts as still-members those whose membership began before the previous snapshot.
   */
  async compute(at: Date): Promise<Array<{ segment_id: string; key: string; metrics: SegmentKpiMetrics }>> {
    const since30 = new Date(at.getTime() - 30 * DAY_MS).toISOString();
    const rows = await queryRows<{ segment_id: string; key: string; size: number; revenue: number | null; buyers: number; repeaters: number; converted: number; aov: number | null; clv: number | null; lapsed: number; staged: number; engaged: number; stayed: number; prev_size: number | null; prev_at: string | null; customers: number; total_revenue: number | null }>(
      this.database.db,
      sql`with pop as (select count(*)::int as customers, sum(greatest(${num('revenue')}, 0)) as total_revenue from segmentation.profile_view p),
        prev as (select distinct on (segment_id) segment_id, at, (metrics ->> 'size')::int as size from segmentation.kpi_snapshots order by segment_id, at desc),
        engaged as (select distinct profile_id from segmentation.behaviour_facts where occurred_at >= ${since30}::timestamptz),
        per as (
          select m.segment_id,
            count(*)::int as size,
            sum(greatest(${num('revenue')}, 0)) as revenue,
            count(*) filter (where ${num('orders')} >= 1)::int as buyers,
            count(*) filter (where ${num('orders')} >= 2)::int as repeaters,
            count(*) filter (where ${num('recency_days')} <= 30)::int as converted,
            avg(${num('aov')}) filter (where ${num('orders')} >= 1) as aov,
            avg(${num('clv')}) as clv,
            count(*) filter (where p.features ->> 'lifecycle_stage' = 'lapsed')::int as lapsed,
            count(*) filter (where p.features ? 'lifecycle_stage')::int as staged,
            count(e.profile_id)::int as engaged,
            count(*) filter (where m.since <= pr.at)::int as stayed
          from segmentation.memberships m
          join segmentation.profile_view p on p.profile_id = m.profile_id
          left join engaged e on e.profile_id = m.profile_id
          left join prev pr on pr.segment_id = m.segment_id
          group by m.segment_id)
      select s.id as segment_id, s.key, coalesce(per.size, 0) as size, per.revenue, coalesce(per.buyers, 0) as buyers, coalesce(per.repeaters, 0) as repeaters,
        coalesce(per.converted, 0) as converted, per.aov, per.clv, coalesce(per.lapsed, 0) as lapsed, coalesce(per.staged, 0) as staged, coalesce(per.engaged, 0) as engaged,
        coalesce(per.stayed, 0) as stayed, pr.size as prev_size, pr.at as prev_at, pop.customers, pop.total_revenue
      from segmentation.segments s cross join pop left join per on per.segment_id = s.id left join prev pr on pr.segment_id = s.id
      where s.status = 'active' order by s.key`,
    );
    const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);
    return rows.map((r) => {
      const previous = r.prev_size === null ? null : Number(r.prev_size);
      const union = previous === null ? 0 : previous + r.size - r.stayed;
      return {
        segment_id: r.segment_id,
        key: r.key,
        metrics: {
          size: r.size,
          customerShare: rate(r.size, r.customers) ?? 0,
          revenueShare: rate(Number(r.revenue ?? 0), Number(r.total_revenue ?? 0)) ?? 0,
          growth: previous === null ? null : previous > 0 ? (r.size - previous) / previous : null,
          conversionRate: rate(r.converted, r.size),
          aov: r.aov === null ? null : Number(r.aov),
          repeatPurchaseRate: rate(r.repeaters, r.buyers),
          meanClv: r.clv === null ? null : Number(r.clv),
          churnRate: rate(r.lapsed, r.staged),
          engagementRate: rate(r.engaged, r.size),
          stability: previous === null ? null : union > 0 ? r.stayed / union : 1,
        },
      };
    });
  }

  async store(at: Date, snapshots: Array<{ segment_id: string; metrics: SegmentKpiMetrics }>): Promise<void> {
    if (snapshots.length === 0) return;
    await this.database.db.execute(sql`insert into segmentation.kpi_snapshots (segment_id, at, metrics)
      select segment_id, ${at.toISOString()}::timestamptz, metrics from json_to_recordset(${jsonParam(snapshots)}::json) as x(segment_id uuid, metrics jsonb)
      on conflict (segment_id, at) do update set metrics = excluded.metrics`);
  }

  /** A segment's snapshots, newest first. */
  history(segmentId: string, limit: number): Promise<Array<{ at: string | Date; metrics: SegmentKpiMetrics }>> {
    return queryRows(this.database.db, sql`select at, metrics from segmentation.kpi_snapshots where segment_id = ${segmentId} order by at desc limit ${limit}`);
  }
}
