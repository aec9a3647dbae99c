import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { scheduleJob } from '@segmenta/chassis';
import { SegmentationConfig } from '../config';
import { MembershipService } from '../membership/membership.service';
import { BUILTIN_SEGMENTS } from './builtin-segments';
import { SegmentCatalog } from './segment-catalog.service';
import { SegmentsRepository } from './segments.repository';

/**
 * Creates the built-in segments on first start and runs the scheduled recomputes: the frequent one
 * moves customers whom time alone moved (windowed rules), the daily full pass also repairs
 * anything real time missed. One runs at a time.
 */
@Injectable()
export class SegmentsLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SegmentsLifecycle.name);
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly repository: SegmentsRepository,
    private readonly catalog: SegmentCatalog,
    private readonly memberships: MembershipService,
    private readonly scheduler: SchedulerRegistry,
    private readonly config: SegmentationConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.seedBuiltins();
    scheduleJob({
      scheduler: this.scheduler,
      name: 'segments-recompute',
      cronTime: this.config.SEGMENTS_RECOMPUTE_CRON,
      what: 'recompute',
      work: () => this.scheduledRecompute(false),
      logger: this.logger,
    });
    scheduleJob({
      scheduler: this.scheduler,
      name: 'segments-full-recompute',
      cronTime: this.config.SEGMENTS_FULL_RECOMPUTE_CRON,
      what: 'full recompute',
      work: () => this.scheduledRecompute(true),
      logger: this.logger,
    });
  }

  /** Creates the built-in segments never created before (what every start does); returns how many. */
  async seedBuiltins(): Promise<number> {
    const created = await this.repository.seedBuiltins(
      BUILTIN_SEGMENTS.map((b) => ({ id: randomUUID(), key: b.key, name: b.name, description: b.description, kind: b.kind, definition: b.definition, version: 1 })),
    );
    if (created > 0) {
      this.catalog.invalidate();
      this.logger.log(`created ${created} built-in segments (RFM grid, lifecycle stages)`);
    }
    return created;
  }

  private async scheduledRecompute(full: boolean): Promise<void> {
    if (this.running) return;
    this.running = this.memberships
      .recompute(undefined, { full })
      .then((s) => this.logger.log(`scheduled recompute (${s.mode}): ${s.segments} segments, ${s.evaluated} of ${s.profiles} profiles evaluated, ${s.entered} entered, ${s.exited} exited, ${s.ms} ms`))
      .catch((error: unknown) => this.logger.error(`scheduled recompute failed: ${(error as Error).message}`))
      .finally(() => (this.running = undefined));
    await this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const name of ['segments-recompute', 'segments-full-recompute']) if (this.scheduler.doesExist('cron', name)) this.scheduler.deleteCronJob(name);
    await this.running;
  }
}
