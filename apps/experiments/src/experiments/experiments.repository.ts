import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { ExposureSource } from '@segmenta/contracts';
import { DATABASE, anyOf, jsonParam, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';
import type { ExperimentDefinition, ExperimentMetric } from './experiment-definition';

export type ExperimentRow = typeof tables.experiments.$inferSelect;

/** The aggregate row that counts exposures alone (every experiment has it, metrics or not): the sample-ratio check reads it. */
export const EXPOSURES_METRIC = '_exposures';
type Db = Database<typeof tables>['db'];
export type ExperimentsTx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The SQL of experiments, their exposures and the segment memberships targeting reads. */
@Injectable()
export class ExperimentsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  transaction<T>(work: (tx: ExperimentsTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  async create(tx: ExperimentsTx, experiment: { id: string; key: string; name: string; definition: ExperimentDefinition; kind?: ExperimentRow['kind'] }): Promise<ExperimentRow | undefined> {
    const d = experiment.definition;
    const [row] = await tx
      .insert(tables.experiments)
      .values({
        id: experiment.id,
        key: experiment.key,
        name: experiment.name,
        kind: experiment.kind ?? 'experiment',
        hypothesis: d.hypothesis,
        targeting: d.targeting,
        variants: d.variants,
        metrics: d.metrics,
        seed: d.seed,
        allocation: d.allocation,
      })
      .onConflictDoNothing()
      .returning();
    return row;
  }

  async lock(tx: ExperimentsTx, key: string): Promise<ExperimentRow | undefined> {
    const [row] = await tx.select().from(tables.experiments).where(eq(tables.experiments.key, key)).limit(1).for('update');
    return row;
  }

  async get(key: string): Promise<ExperimentRow | undefined> {
    const [row] = await this.database.db.select().from(tables.experiments).where(eq(tables.experiments.key, key)).limit(1);
    return row;
  }

  async list(limit: number, after: string | undefined, status: ExperimentRow['status'] | undefined): Promise<ExperimentRow[]> {
    const e = tables.experiments;
    return this.database.db
      .select()
      .from(e)
      .where(and(after === undefined ? undefined : gt(e.key, after), status === undefined ? undefined : eq(e.status, status)))
      .orderBy(asc(e.key))
      .limit(limit);
  }

  /** Saves a change; the revision grows by one. */
  async update(
    tx: ExperimentsTx,
    key: string,
    change: { name?: string; definition?: ExperimentDefinition; status?: ExperimentRow['status']; startedAt?: Date; endedAt?: Date },
  ): Promise<ExperimentRow> {
    const d = change.definition;
    const [row] = await tx
      .update(tables.experiments)
      .set({
        ...(change.name === undefined ? {} : { name: change.name }),
        ...(d === undefined ? {} : { hypothesis: d.hypothesis, targeting: d.targeting, variants: d.variants, metrics: d.metrics, seed: d.seed, allocation: d.allocation }),
        ...(change.status === undefined ? {} : { status: change.status }),
        ...(change.startedAt === undefined ? {} : { startedAt: change.startedAt }),
        ...(change.endedAt === undefined ? {} : { endedAt: change.endedAt }),
        revision: sql`${tables.experiments.revision} + 1`,
        updatedAt: sql`now()`,
      })
      .where(eq(tables.experiments.key, key))
      .returning();
    return row;
  }

  /** A bandit's new weights per segment; the revision grows (they are announced). */
  async allocate(tx: ExperimentsTx, key: string, segmentWeights: Record<string, number[]>, at: Date): Promise<ExperimentRow> {
    const [row] = await tx
      .update(tables.experiments)
      .set({ segmentWeights, allocatedAt: at, revision: sql`${tables.experiments.revision} + 1`, updatedAt: sql`now()` })
      .where(eq(tables.experiments.key, key))
      .returning();
    return row;
  }

  async runningKeys(): Promise<string[]> {
    const e = tables.experiments;
    const rows = await this.database.db.select({ key: e.key }).from(e).where(eq(e.status, 'running')).orderBy(asc(e.key));
    return rows.map((r) => r.key);
  }

  /** Running bandits whose cadence has come round since they last moved (or that never moved). */
  async banditsDue(now: Date): Promise<string[]> {
    const rows = await queryRows<{ key: string }>(
      this.database.db,
      sql`select key from experiments.experiments where status = 'running' and allocation->>'type' = 'bandit'
        and (allocated_at is null or allocated_at + make_interval(mins => (allocation->>'cadenceMinutes')::int) <= ${now.toISOString()}::timestamptz)
        order by key`,
    );
    return rows.map((r) => r.key);
  }

  /** The programme's running holdout, if there is one (issue 22). */
  async runningHoldout(tx?: ExperimentsTx): Promise<ExperimentRow | undefined> {
    const e = tables.experiments;
    const [row] = await (tx ?? this.database.db)
      .select()
      .from(e)
      .where(and(eq(e.kind, 'holdout'), eq(e.status, 'running')))
      .limit(1);
    return row;
  }

  /** Which of `segmentKeys` the customer is a member of. */
  async memberOf(profileId: string, segmentKeys: string[]): Promise<string[]> {
    if (segmentKeys.length === 0) return [];
    const rows = await queryRows<{ segment_key: string }>(
      this.database.db,
      sql`select segment_key from experiments.memberships where profile_id = ${profileId}::uuid and segment_key = ${anyOf(segmentKeys, 'text')} and member`,
    );
    return rows.map((r) => r.segment_key);
  }

  /** Applies membership changes; a change older than the pair's last one (seq) changes nothing. */
  async applyMemberships(tx: ExperimentsTx, changes: Array<{ segmentKey: string; profileId: string; member: boolean; seq: number }>): Promise<void> {
    if (changes.length === 0) return;
    await tx.execute(sql`insert into experiments.memberships (segment_key, profile_id, member, seq)
      select distinct on (x."segmentKey", x."profileId") x."segmentKey", x."profileId", x.member, x.seq
      from json_to_recordset(${jsonParam(changes)}::json) as x("segmentKey" text, "profileId" uuid, member boolean, seq bigint)
      order by x."segmentKey", x."profileId", x.seq desc
      on conflict (segment_key, profile_id) do update set member = excluded.member, seq = excluded.seq where experiments.memberships.seq < excluded.seq`);
  }

  /** The stored first exposures of these customers (variant and time). */
  async storedExposures(
    tx: ExperimentsTx,
    pairs: Array<{ experimentId: string; profileId: string }>,
  ): Promise<Array<{ experimentId: string; profileId: string; variant: string; firstExposedAt: Date }>> {
    if (pairs.length === 0) return [];
    const rows = await queryRows<{ experiment_id: string; profile_id: string; variant: string; first_exposed_at: string | Date }>(
      tx,
      sql`select e.experiment_id, e.profile_id, e.variant, e.first_exposed_at from experiments.exposures e
        join json_to_recordset(${jsonParam(pairs)}::json) as x("experimentId" uuid, "profileId" uuid) on e.experiment_id = x."experimentId" and e.profile_id = x."profileId"`,
    );
    return rows.map((r) => ({
      experimentId: r.experiment_id,
      profileId: r.profile_id,
      variant: r.variant,
      firstExposedAt: r.first_exposed_at instanceof Date ? r.first_exposed_at : new Date(r.first_exposed_at),
    }));
  }

  /** First exposures of many customers at once (the API's group commits, offers.served, journeys); returns the ones that were new. Unknown experiments are skipped. */
  async exposeMany(
    tx: ExperimentsTx,
    exposures: Array<{ experimentId: string; profileId: string; variant: string; at: string; source: ExposureSource }>,
  ): Promise<Array<{ experimentId: string; key: string; profileId: string; variant: string; source: ExposureSource; at: string }>> {
    if (exposures.length === 0) return [];
    const rows = await queryRows<{ experiment_id: string; key: string; profile_id: string; variant: string; source: ExposureSource; first_exposed_at: string | Date }>(
      tx,
      // The exposure, the segments the customer is in now (their breakdowns) and their revenue so far (CUPED's covariate), and each metric's
      // aggregate (and the exposure count, '_exposures') moved by it, in one statement.
      sql`with new as (
          insert into experiments.exposures (experiment_id, profile_id, variant, first_exposed_at, source, segments, covariate)
          select distinct on (x."experimentId", x."profileId") x."experimentId", x."profileId", x.variant, x.at, x.source,
            coalesce((select jsonb_agg(m.segment_key order by m.segment_key) from experiments.memberships m where m.profile_id = x."profileId" and m.member), '[]'::jsonb),
            (select r.revenue from experiments.profile_revenue r where r.profile_id = x."profileId")
          from json_to_recordset(${jsonParam(exposures)}::json) as x("experimentId" uuid, "profileId" uuid, variant text, at timestamptz, source text)
          where exists (select 1 from experiments.experiments e where e.id = x."experimentId")
          order by x."experimentId", x."profileId", x.at
          on conflict do nothing
          returning experiment_id, profile_id, variant, source, first_exposed_at, segments, covariate),
        counted as (
          insert into experiments.aggregates (experiment_id, variant, segment_key, metric_key, n, sum_x, sum_x2)
          select new.experiment_id, new.variant, s.segment_key, k.metric_key, count(*), sum(coalesce(new.covariate, 0)), sum(coalesce(new.covariate, 0) ^ 2)
          from new join experiments.experiments e on e.id = new.experiment_id
          cross join lateral (select '' as segment_key union all select jsonb_array_elements_text(new.segments)) s
          cross join lateral (select '${sql.raw(EXPOSURES_METRIC)}' as metric_key union all select m->>'key' from jsonb_array_elements(e.metrics) m) k
          group by 1, 2, 3, 4
          -- In key order: concurrent batches lock the rows they share in the same order, and never deadlock.
          order by 1, 2, 3, 4
          on conflict (experiment_id, variant, segment_key, metric_key) do update set n = experiments.aggregates.n + excluded.n,
            sum_x = experiments.aggregates.sum_x + excluded.sum_x, sum_x2 = experiments.aggregates.sum_x2 + excluded.sum_x2)
        select new.experiment_id, new.profile_id, new.variant, new.source, new.first_exposed_at, e.key from new join experiments.experiments e on e.id = new.experiment_id`,
    );
    return rows.map((r) => ({
      experimentId: r.experiment_id,
      key: r.key,
      profileId: r.profile_id,
      variant: r.variant,
      source: r.source,
      at: (r.first_exposed_at instanceof Date ? r.first_exposed_at : new Date(r.first_exposed_at)).toISOString(),
    }));
  }

  /**
   * The exposures of these customers with their experiment's metrics and end (what their events can
   * move), locked; `withMetrics` leaves out experiments without metrics (events cannot move them).
   */
  async exposuresOf(tx: ExperimentsTx, profileIds: string[], withMetrics = true): Promise<ExposureForMetrics[]> {
    if (profileIds.length === 0) return [];
    const rows = await queryRows<{
      experiment_id: string;
      profile_id: string;
      variant: string;
      first_exposed_at: string | Date;
      segments: string[];
      covariate: number | null;
      metrics: ExperimentMetric[];
      ended_at: string | Date | null;
    }>(
      tx,
      sql`select x.experiment_id, x.profile_id, x.variant, x.first_exposed_at, x.segments, x.covariate, e.metrics, e.ended_at
        from experiments.exposures x join experiments.experiments e on e.id = x.experiment_id
        where x.profile_id = ${anyOf(profileIds, 'uuid')} ${withMetrics ? sql`and jsonb_array_length(e.metrics) > 0` : sql``}
        order by x.experiment_id, x.profile_id for update of x`,
    );
    const date = (v: string | Date) => (v instanceof Date ? v : new Date(v));
    return rows.map((r) => ({
      experimentId: r.experiment_id,
      profileId: r.profile_id,
      variant: r.variant,
      exposedAt: date(r.first_exposed_at),
      segments: r.segments,
      covariate: r.covariate ?? 0,
      metrics: r.metrics,
      endedAt: r.ended_at === null ? null : date(r.ended_at),
    }));
  }

  async metricValues(tx: ExperimentsTx, profileIds: string[]): Promise<Map<string, number>> {
    if (profileIds.length === 0) return new Map();
    const rows = await queryRows<{ experiment_id: string; profile_id: string; metric_key: string; value: number }>(
      tx,
      sql`select experiment_id, profile_id, metric_key, value from experiments.metric_values where profile_id = ${anyOf(profileIds, 'uuid')}`,
    );
    return new Map(rows.map((r) => [metricValueKey(r.experiment_id, r.profile_id, r.metric_key), r.value]));
  }

  /** New metric values and the aggregate deltas they make, in the caller's transaction. */
  async writeMetricChanges(tx: ExperimentsTx, values: Array<{ experimentId: string; profileId: string; metricKey: string; value: number }>, deltas: AggregateDelta[]): Promise<void> {
    if (values.length > 0)
      await tx.execute(sql`insert into experiments.metric_values (experiment_id, profile_id, metric_key, value)
        select x."experimentId", x."profileId", x."metricKey", x.value from json_to_recordset(${jsonParam(values)}::json) as x("experimentId" uuid, "profileId" uuid, "metricKey" text, value double precision)
        on conflict (experiment_id, profile_id, metric_key) do update set value = excluded.value, updated_at = now()`);
    await this.moveAggregates(tx, deltas);
  }

  /** Adds the deltas to the aggregate rows (creating missing ones), in a fixed order so concurrent batches never deadlock. */
  async moveAggregates(tx: ExperimentsTx, deltas: AggregateDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    await tx.execute(sql`insert into experiments.aggregates (experiment_id, variant, segment_key, metric_key, n, sum_y, sum_y2, sum_x, sum_x2, sum_xy)
      select x."experimentId", x.variant, x."segmentKey", x."metricKey", x.n, x."sumY", x."sumY2", x."sumX", x."sumX2", x."sumXY"
      from json_to_recordset(${jsonParam(deltas.map((d) => ({ n: 0, sumX: 0, sumX2: 0, ...d })))}::json) as x("experimentId" uuid, variant text, "segmentKey" text, "metricKey" text,
        n bigint, "sumY" double precision, "sumY2" double precision, "sumX" double precision, "sumX2" double precision, "sumXY" double precision)
      order by 1, 2, 3, 4
      on conflict (experiment_id, variant, segment_key, metric_key) do update set n = experiments.aggregates.n + excluded.n,
        sum_y = experiments.aggregates.sum_y + excluded.sum_y, sum_y2 = experiments.aggregates.sum_y2 + excluded.sum_y2,
        sum_x = experiments.aggregates.sum_x + excluded.sum_x, sum_x2 = experiments.aggregates.sum_x2 + excluded.sum_x2,
        sum_xy = experiments.aggregates.sum_xy + excluded.sum_xy`);
  }

  /** Gives `from`'s exposures (and their metric values) of these experiments to `to` (a merge; `to` has none of them). */
  async moveExposures(tx: ExperimentsTx, from: string, to: string, experimentIds: string[]): Promise<void> {
    if (experimentIds.length === 0) return;
    await tx.execute(sql`update experiments.exposures set profile_id = ${to}::uuid where profile_id = ${from}::uuid and experiment_id = ${anyOf(experimentIds, 'uuid')}`);
    await tx.execute(sql`update experiments.metric_values set profile_id = ${to}::uuid where profile_id = ${from}::uuid and experiment_id = ${anyOf(experimentIds, 'uuid')}`);
  }

  /** Deletes these exposures and their metric values (their aggregates are moved by the caller). */
  async deleteExposures(tx: ExperimentsTx, exposures: Array<{ experimentId: string; profileId: string }>): Promise<void> {
    if (exposures.length === 0) return;
    const pairs = jsonParam(exposures);
    await tx.execute(sql`delete from experiments.metric_values v using json_to_recordset(${pairs}::json) as x("experimentId" uuid, "profileId" uuid)
      where v.experiment_id = x."experimentId" and v.profile_id = x."profileId"`);
    await tx.execute(sql`delete from experiments.exposures e using json_to_recordset(${pairs}::json) as x("experimentId" uuid, "profileId" uuid)
      where e.experiment_id = x."experimentId" and e.profile_id = x."profileId"`);
  }

  /** What experiments keep of erased customers beyond their exposures: segment memberships. */
  async forgetMemberships(tx: ExperimentsTx, profileIds: string[]): Promise<void> {
    if (profileIds.length > 0) await tx.execute(sql`delete from experiments.memberships where profile_id = ${anyOf(profileIds, 'uuid')}`);
  }

  /** An experiment's aggregates: what its results are computed from. */
  async aggregatesOf(experimentId: string): Promise<AggregateRow[]> {
    const a = tables.aggregates;
    return this.database.db.select().from(a).where(eq(a.experimentId, experimentId));
  }
}

export type AggregateRow = typeof tables.aggregates.$inferSelect;

/** What to add to one aggregate row (missing sums: 0). */
export interface AggregateDelta {
  experimentId: string;
  variant: string;
  segmentKey: string;
  metricKey: string;
  n?: number;
  sumY: number;
  sumY2: number;
  sumX?: number;
  sumX2?: number;
  sumXY: number;
}

export interface ExposureForMetrics {
  experimentId: string;
  profileId: string;
  variant: string;
  exposedAt: Date;
  segments: string[];
  covariate: number;
  metrics: ExperimentMetric[];
  endedAt: Date | null;
}

export const metricValueKey = (experimentId: string, profileId: string, metricKey: string) => `${experimentId}\u0000${profileId}\u0000${metricKey}`;

/** Revenue to date from profiles.updated (null removes it), merges and erasures: CUPED's covariate. */
export async function keepProfileRevenue(tx: ExperimentsTx, changes: Array<{ profileId: string; revenue: number | null }>, gone: string[]): Promise<void> {
  const kept = changes.filter((c) => c.revenue !== null);
  const removed = [...gone, ...changes.filter((c) => c.revenue === null).map((c) => c.profileId)];
  if (kept.length > 0)
    await tx.execute(sql`insert into experiments.profile_revenue (profile_id, revenue)
      select distinct on (x."profileId") x."profileId", x.revenue from rows from (json_to_recordset(${jsonParam(kept)}::json) as ("profileId" uuid, revenue double precision)) with ordinality as x("profileId", revenue, n)
      order by x."profileId", x.n desc
      on conflict (profile_id) do update set revenue = excluded.revenue, updated_at = now()`);
  if (removed.length > 0) await tx.execute(sql`delete from experiments.profile_revenue where profile_id = ${anyOf(removed, 'uuid')}`);
}
