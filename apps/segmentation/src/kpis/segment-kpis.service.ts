import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { scheduleJob } from '@segmenta/chassis';
import { SUBJECTS, type SegmentExperimentLiftV1, type SegmentKpiMetrics, type SegmentKpisV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { withTransaction } from '@segmenta/persistence';
import { SegmentationConfig } from '../config';
import { Clock } from '../membership/clock';
import { SegmentsService } from '../segments/segments.service';
import { ExperimentLiftRepository } from './experiment-lift.repository';
import { SegmentKpisRepository } from './segment-kpis.repository';

/**
 * Segment KPIs (ARCHITECTURE §6): snapshotted for every active segment on SEGMENTS_KPIS_CRON and
 * on demand, stored, and published as segments.kpis, each with the segment's lift per running
 * experiment (issue 22: experiments.results closes the loop).
 */
@Injectable()
export class SegmentKpisService implements OnApplicationBootstrap {
  private readonly logger = new Logger(SegmentKpisService.name);

  constructor(
    private readonly repository: SegmentKpisRepository,
    private readonly lift: ExperimentLiftRepository,
    private readonly segments: SegmentsService,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly config: SegmentationConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({ scheduler: this.scheduler, name: 'segment-kpis', cronTime: this.config.SEGMENTS_KPIS_CRON, what: 'KPI snapshot', work: () => this.snapshot(), logger: this.logger });
  }

  /** Computes, stores and publishes every active segment's KPIs now. */
  async snapshot(): Promise<{ at: string; segments: Array<{ segmentId: string; key: string; metrics: SegmentKpiMetrics; experiments: SegmentExperimentLiftV1[] }> }> {
    const at = new Date(this.clock.now());
    const snapshots = await this.repository.compute(at);
    const lifts = await this.lift.runningBySegment();
    const experimentsOf = (key: string) => lifts.get(key) ?? [];
    const messages = snapshots.map((s) => {
      const data: SegmentKpisV1 = { segmentId: s.segment_id, segmentKey: s.key, at: at.toISOString(), metrics: s.metrics, experiments: experimentsOf(s.key) };
      return {
        subject: SUBJECTS.segmentsKpis,
        envelope: createEnvelope(SUBJECTS.segmentsKpis, data, { id: `segment-kpis-${s.segment_id}-${at.getTime()}`, occurredAt: at }),
        partitionKey: s.segment_id,
      };
    });
    // Stored with their messages: the outbox publishes what committed.
    await withTransaction(this.repository.database.db, async (tx) => {
      await this.repository.store(at, snapshots, tx);
      await this.outbox.write(tx, messages);
    });
    this.outbox.wake();
    return { at: at.toISOString(), segments: snapshots.map((s) => ({ segmentId: s.segment_id, key: s.key, metrics: s.metrics, experiments: experimentsOf(s.key) })) };
  }

  /** A segment's KPI history, newest first (`:id` is its id or key), and its current lift per running experiment. */
  async history(idOrKey: string, limit: number) {
    const segment = await this.segments.find(idOrKey);
    const [snapshots, experiments] = await Promise.all([this.repository.history(segment.id, limit), this.lift.runningFor(segment.key)]);
    return { segment: { id: segment.id, key: segment.key }, snapshots: snapshots.map((s) => ({ at: new Date(s.at).toISOString(), metrics: s.metrics })), experiments };
  }
}
