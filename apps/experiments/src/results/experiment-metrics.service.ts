import { Injectable } from '@nestjs/common';
import { Inbox, Outbox } from '@segmenta/messaging';
import { compileAssignment, type Assignment } from '@segmenta/stats';
import { EXPOSURES_METRIC, ExperimentsRepository, metricValueKey, type AggregateDelta, type ExperimentRow, type ExperimentsTx, type ExposureForMetrics } from '../experiments/experiments.repository';
import { announceExposures } from '../experiments/exposure-writer';
import { mergedMetricValue, metricValueAfter, type MetricEvent } from './metric-values';

/** An event that can move metric values: its messageId (counted once), the customer and what happened. */
export interface CustomerEvent extends MetricEvent {
  id: string;
  profileId: string;
}

/**
 * Keeps exposed customers' metric values and the streaming aggregates in step (issue 21), in the
 * caller's transaction: events move values (each aggregate row of the customer's variant and
 * segments moves by the difference); a merge leaves one exposure per experiment for the customer;
 * an erasure takes the customer out of every aggregate. Afterwards the aggregates always equal a
 * recomputation from the exposures and metric values left.
 */
@Injectable()
export class ExperimentMetricsService {
  /** The programme holdout's assignment, its ranges worked out once per revision. */
  private holdoutAssignment: { id: string; revision: number; assign: (profileId: string) => Assignment } | null = null;

  constructor(
    private readonly repository: ExperimentsRepository,
    private readonly outbox: Outbox,
  ) {}

  /** Applies events in time order; `inbox` drops the ones it has already seen (a redelivery, or the same event sent twice). */
  async applyEvents(tx: ExperimentsTx, inbox: Inbox, events: CustomerEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.exposeToProgramme(tx, events);
    const exposures = await this.repository.exposuresOf(tx, [...new Set(events.map((e) => e.profileId))]);
    if (exposures.length === 0) return;
    const exposed = new Set(exposures.map((x) => x.profileId));
    const fresh = await inbox.claim(
      tx,
      events.filter((e) => exposed.has(e.profileId)).map((e) => e.id),
    );
    const values = await this.repository.metricValues(tx, [...exposed]);
    const changed = new Map<string, { experimentId: string; profileId: string; metricKey: string; value: number }>();
    const deltas = new AggregateDeltas();
    // `fresh` holds each new id once; the same event twice in one batch is applied once too.
    const ordered = events.filter((e) => fresh.delete(e.id)).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    for (const event of ordered)
      for (const exposure of exposures) {
        if (exposure.profileId !== event.profileId) continue;
        for (const metric of exposure.metrics) {
          const key = metricValueKey(exposure.experimentId, exposure.profileId, metric.key);
          const before = values.get(key) ?? 0;
          const after = metricValueAfter(metric, exposure.exposedAt, exposure.endedAt, event, before);
          if (after === null || after === before) continue;
          values.set(key, after);
          changed.set(key, { experimentId: exposure.experimentId, profileId: exposure.profileId, metricKey: metric.key, value: after });
          deltas.value(exposure, metric.key, before, after);
        }
      }
    await this.repository.writeMetricChanges(tx, [...changed.values()], deltas.list());
  }

  /**
   * While the programme holdout runs, every customer is in it or treated from their first activity
   * on (issue 22): their first event since it started exposes them, so the programme's lift covers
   * every active customer, not only those offers or journeys reached. Announced as experiments.exposed.
   */
  private async exposeToProgramme(tx: ExperimentsTx, events: CustomerEvent[]): Promise<void> {
    const holdout = await this.repository.runningHoldout(tx);
    if (!holdout?.startedAt) return;
    const assign = this.assignmentOf(holdout);
    const started = holdout.startedAt.getTime();
    const firstSeen = new Map<string, Date>();
    for (const e of events) {
      if (e.occurredAt.getTime() < started) continue;
      const seen = firstSeen.get(e.profileId);
      if (!seen || e.occurredAt < seen) firstSeen.set(e.profileId, e.occurredAt);
    }
    const exposures = [...firstSeen].flatMap(([profileId, at]) => {
      const assigned = assign(profileId);
      return assigned.inExperiment ? [{ experimentId: holdout.id, profileId, variant: holdout.variants[assigned.variant].key, at: at.toISOString(), source: 'activity' as const }] : [];
    });
    if (exposures.length === 0) return;
    const fresh = await this.repository.exposeMany(tx, exposures);
    await announceExposures(this.outbox, tx, fresh);
  }

  private assignmentOf(holdout: ExperimentRow): (profileId: string) => Assignment {
    const held = this.holdoutAssignment;
    if (held && held.id === holdout.id && held.revision === holdout.revision) return held.assign;
    const assign = compileAssignment({ seed: holdout.seed, trafficShare: holdout.targeting.trafficShare, weights: holdout.variants.map((v) => v.weight), namespace: holdout.targeting.namespace });
    this.holdoutAssignment = { id: holdout.id, revision: holdout.revision, assign };
    return assign;
  }

  /**
   * `from` turned out to be `to`: per experiment one exposure is left for `to`. When only `from` was
   * exposed, its exposure moves. When both were, the first exposure stays (its variant is what the
   * customer saw first) and the other leaves the aggregates; if both saw the same variant, the
   * customer's values add up (revenue) or the larger stays (0/1 metrics).
   */
  async merge(tx: ExperimentsTx, from: string, to: string): Promise<void> {
    const exposures = await this.repository.exposuresOf(tx, [from, to], false);
    const fromExposures = exposures.filter((x) => x.profileId === from);
    if (fromExposures.length === 0) return;
    const values = await this.repository.metricValues(tx, [from, to]);
    const valueOf = (x: ExposureForMetrics, metricKey: string) => values.get(metricValueKey(x.experimentId, x.profileId, metricKey)) ?? 0;
    const deltas = new AggregateDeltas();
    const moves: string[] = [];
    const dropped: ExposureForMetrics[] = [];
    const combined: Array<{ experimentId: string; profileId: string; metricKey: string; value: number }> = [];
    for (const mine of fromExposures) {
      const theirs = exposures.find((x) => x.profileId === to && x.experimentId === mine.experimentId);
      if (theirs === undefined) {
        moves.push(mine.experimentId);
        continue;
      }
      const [kept, other] = mine.exposedAt.getTime() < theirs.exposedAt.getTime() ? [mine, theirs] : [theirs, mine];
      deltas.remove(other, (metricKey) => valueOf(other, metricKey));
      dropped.push(other);
      if (kept === mine) moves.push(mine.experimentId);
      if (kept.variant !== other.variant) continue;
      for (const metric of kept.metrics) {
        const before = valueOf(kept, metric.key);
        const after = mergedMetricValue(metric, before, valueOf(other, metric.key));
        if (after === before) continue;
        deltas.value(kept, metric.key, before, after);
        combined.push({ experimentId: kept.experimentId, profileId: to, metricKey: metric.key, value: after });
      }
    }
    // The dropped exposures go first: `to` may hold one of the experiments `from`'s exposure moves into.
    await this.repository.deleteExposures(tx, dropped);
    await this.repository.moveExposures(tx, from, to, moves);
    await this.repository.writeMetricChanges(tx, combined, deltas.list());
  }

  /** Erased customers leave every aggregate; their exposures, values and memberships are deleted. */
  async erase(tx: ExperimentsTx, profileIds: string[]): Promise<void> {
    if (profileIds.length === 0) return;
    const exposures = await this.repository.exposuresOf(tx, profileIds, false);
    const values = await this.repository.metricValues(tx, profileIds);
    const deltas = new AggregateDeltas();
    for (const x of exposures) deltas.remove(x, (metricKey) => values.get(metricValueKey(x.experimentId, x.profileId, metricKey)) ?? 0);
    await this.repository.deleteExposures(tx, exposures);
    await this.repository.moveAggregates(tx, deltas.list());
    await this.repository.forgetMemberships(tx, profileIds);
  }
}

/** Aggregate deltas summed per row: the everyone row ('') and each of the exposure's segments move alike. */
class AggregateDeltas {
  private readonly rows = new Map<string, Required<AggregateDelta>>();

  /** A customer's metric value went from `before` to `after`. */
  value(exposure: ExposureForMetrics, metricKey: string, before: number, after: number): void {
    for (const row of this.rowsOf(exposure, metricKey)) {
      row.sumY += after - before;
      row.sumY2 += after * after - before * before;
      row.sumXY += exposure.covariate * (after - before);
    }
  }

  /** The exposure leaves: its count, covariate and every metric value (y) come out of its rows. */
  remove(exposure: ExposureForMetrics, valueOf: (metricKey: string) => number): void {
    const x = exposure.covariate;
    for (const metricKey of [EXPOSURES_METRIC, ...exposure.metrics.map((m) => m.key)]) {
      const y = metricKey === EXPOSURES_METRIC ? 0 : valueOf(metricKey);
      for (const row of this.rowsOf(exposure, metricKey)) {
        row.n -= 1;
        row.sumX -= x;
        row.sumX2 -= x * x;
        row.sumY -= y;
        row.sumY2 -= y * y;
        row.sumXY -= x * y;
      }
    }
  }

  list(): AggregateDelta[] {
    return [...this.rows.values()];
  }

  private rowsOf(exposure: ExposureForMetrics, metricKey: string): Array<Required<AggregateDelta>> {
    return ['', ...exposure.segments].map((segmentKey) => {
      const id = `${exposure.experimentId}\u0000${exposure.variant}\u0000${segmentKey}\u0000${metricKey}`;
      let row = this.rows.get(id);
      if (!row) {
        row = { experimentId: exposure.experimentId, variant: exposure.variant, segmentKey, metricKey, n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 };
        this.rows.set(id, row);
      }
      return row;
    });
  }
}
