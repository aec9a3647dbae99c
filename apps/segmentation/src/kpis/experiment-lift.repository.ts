import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, lt, ne, sql } from 'drizzle-orm';
import type { ExperimentKind, ExperimentResultsV1, SegmentExperimentLiftV1 } from '@segmenta/contracts';
import { DATABASE, withTransaction, type Database, type Db } from '@segmenta/persistence';
import * as tables from '../db/schema';

/** What the KPI view keeps from the EXPERIMENTS stream: results, or an experiment's stop. */
export type ExperimentLiftChange = { results: ExperimentResultsV1 } | { stopped: { experimentId: string; key: string; kind: ExperimentKind; at: string } };

type Tx = Parameters<Parameters<Db<typeof tables>['transaction']>[0]>[0];

/** Everyone's row of an experiment: it also marks the experiment stopped. */
const EVERYONE = '';

const t = tables.experimentLift;

/** The newest experiments.results per segment and experiment (ADR 12: applied in stream order, the later `at` wins). */
@Injectable()
export class ExperimentLiftRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /** Applies results and stops in the order given, in one transaction. */
  async apply(changes: ExperimentLiftChange[]): Promise<void> {
    if (changes.length === 0) return;
    await withTransaction(this.database.db, async (tx) => {
      for (const change of changes) {
        if ('stopped' in change) await this.stop(tx, change.stopped);
        else if (change.results.status === 'stopped') await this.stop(tx, change.results);
        else if (change.results.status === 'running') await this.replace(tx, change.results);
        // A draft has no results to show.
      }
    });
  }

  /** A running experiment's results replace older ones, segments it no longer breaks down by included; nothing changes once it is stopped. */
  private async replace(tx: Tx, results: ExperimentResultsV1): Promise<void> {
    const at = new Date(results.at);
    // Everyone's row is written with every result and stop: it says how new the stored results are.
    const [everyone] = await tx
      .select({ status: t.status, at: t.at })
      .from(t)
      .where(and(eq(t.experimentId, results.experimentId), eq(t.segmentKey, EVERYONE)))
      .limit(1)
      .for('update');
    if (everyone && (everyone.status === 'stopped' || new Date(everyone.at) >= at)) return;
    const rows = [{ segmentKey: EVERYONE, metrics: results.overall }, ...results.segments.map((s) => ({ segmentKey: s.segmentKey, metrics: s.metrics }))];
    await tx
      .insert(t)
      .values(rows.map((r) => ({ segmentKey: r.segmentKey, experimentId: results.experimentId, experimentKey: results.key, kind: results.kind, status: 'running' as const, at, metrics: r.metrics })))
      .onConflictDoUpdate({
        target: [t.experimentId, t.segmentKey],
        set: { experimentKey: sql`excluded.experiment_key`, kind: sql`excluded.kind`, at: sql`excluded.at`, metrics: sql`excluded.metrics` },
      });
    await tx.delete(t).where(and(eq(t.experimentId, results.experimentId), lt(t.at, at)));
  }

  /** Stopping is final: the segments' rows go and everyone's row stays as the mark that refuses later results. */
  private async stop(tx: Tx, experiment: { experimentId: string; key: string; kind: ExperimentKind; at: string }): Promise<void> {
    await tx.delete(t).where(and(eq(t.experimentId, experiment.experimentId), ne(t.segmentKey, EVERYONE)));
    await tx
      .insert(t)
      .values({ segmentKey: EVERYONE, experimentId: experiment.experimentId, experimentKey: experiment.key, kind: experiment.kind, status: 'stopped', at: new Date(experiment.at), metrics: [] })
      .onConflictDoUpdate({ target: [t.experimentId, t.segmentKey], set: { status: 'stopped', at: sql`greatest(${t.at}, excluded.at)` } });
  }

  /** The segment's lift in each running experiment that breaks down by it, by experiment key. */
  async runningFor(segmentKey: string): Promise<SegmentExperimentLiftV1[]> {
    return (await this.running(segmentKey)).map((row) => row.lift);
  }

  /** Every segment's lift per running experiment, by segment key (for the KPI snapshot's messages). */
  async runningBySegment(): Promise<Map<string, SegmentExperimentLiftV1[]>> {
    const bySegment = new Map<string, SegmentExperimentLiftV1[]>();
    for (const { segmentKey, lift } of await this.running()) {
      const lifts = bySegment.get(segmentKey) ?? [];
      lifts.push(lift);
      bySegment.set(segmentKey, lifts);
    }
    return bySegment;
  }

  private async running(segmentKey?: string): Promise<Array<{ segmentKey: string; lift: SegmentExperimentLiftV1 }>> {
    const rows = await this.database.db
      .select({ segmentKey: t.segmentKey, experimentId: t.experimentId, key: t.experimentKey, kind: t.kind, at: t.at, metrics: t.metrics })
      .from(t)
      .where(and(eq(t.status, 'running'), segmentKey === undefined ? ne(t.segmentKey, EVERYONE) : eq(t.segmentKey, segmentKey)))
      .orderBy(asc(t.segmentKey), asc(t.experimentKey));
    return rows.map(({ segmentKey: key, ...lift }) => ({ segmentKey: key, lift: { ...lift, at: new Date(lift.at).toISOString() } }));
  }
}
