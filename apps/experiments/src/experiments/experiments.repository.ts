import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { DATABASE, anyOf, jsonParam, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';
import type { ExperimentDefinition } from './experiment-definition';

export type ExperimentRow = typeof tables.experiments.$inferSelect;
type Db = Database<typeof tables>['db'];
export type ExperimentsTx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The SQL of experiments, their exposures and the segment memberships targeting reads. */
@Injectable()
export class ExperimentsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  transaction<T>(work: (tx: ExperimentsTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  async create(tx: ExperimentsTx, experiment: { id: string; key: string; name: string; definition: ExperimentDefinition }): Promise<ExperimentRow | undefined> {
    const d = experiment.definition;
    const [row] = await tx
      .insert(tables.experiments)
      .values({ id: experiment.id, key: experiment.key, name: experiment.name, hypothesis: d.hypothesis, targeting: d.targeting, variants: d.variants, metrics: d.metrics, seed: d.seed })
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
        ...(d === undefined ? {} : { hypothesis: d.hypothesis, targeting: d.targeting, variants: d.variants, metrics: d.metrics, seed: d.seed }),
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

  /** Records the customer's first exposure; the stored one (first variant, first time) when they had one. */
  async expose(
    tx: ExperimentsTx,
    exposure: { experimentId: string; profileId: string; variant: string; at: Date; source: 'api' | 'offers' | 'journeys' },
  ): Promise<{ variant: string; firstExposedAt: Date; first: boolean }> {
    const inserted = await tx
      .insert(tables.exposures)
      .values({ experimentId: exposure.experimentId, profileId: exposure.profileId, variant: exposure.variant, firstExposedAt: exposure.at, source: exposure.source })
      .onConflictDoNothing()
      .returning();
    if (inserted.length > 0) return { variant: inserted[0].variant, firstExposedAt: inserted[0].firstExposedAt, first: true };
    const x = tables.exposures;
    const [stored] = await tx
      .select()
      .from(x)
      .where(and(eq(x.experimentId, exposure.experimentId), eq(x.profileId, exposure.profileId)))
      .limit(1);
    return { variant: stored.variant, firstExposedAt: stored.firstExposedAt, first: false };
  }

  /** First exposures of many customers at once (offers.served); returns the ones that were new. Unknown experiments are skipped. */
  async exposeMany(
    tx: ExperimentsTx,
    exposures: Array<{ experimentId: string; profileId: string; variant: string; at: string; source: 'api' | 'offers' | 'journeys' }>,
  ): Promise<Array<{ experimentId: string; key: string; profileId: string; variant: string; source: 'api' | 'offers' | 'journeys'; at: string }>> {
    if (exposures.length === 0) return [];
    const rows = await queryRows<{ experiment_id: string; key: string; profile_id: string; variant: string; source: 'api' | 'offers' | 'journeys'; first_exposed_at: string | Date }>(
      tx,
      sql`with new as (
          insert into experiments.exposures (experiment_id, profile_id, variant, first_exposed_at, source)
          select distinct on (x."experimentId", x."profileId") x."experimentId", x."profileId", x.variant, x.at, x.source
          from json_to_recordset(${jsonParam(exposures)}::json) as x("experimentId" uuid, "profileId" uuid, variant text, at timestamptz, source text)
          where exists (select 1 from experiments.experiments e where e.id = x."experimentId")
          order by x."experimentId", x."profileId", x.at
          on conflict do nothing
          returning experiment_id, profile_id, variant, source, first_exposed_at)
        select new.*, e.key from new join experiments.experiments e on e.id = new.experiment_id`,
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
}
