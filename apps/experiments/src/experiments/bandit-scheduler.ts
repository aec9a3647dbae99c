import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { scheduleJob } from '@segmenta/chassis';
import { ExperimentsService } from './experiments.service';

/** Every 30 s replicas look for bandits due to move (their cadence is in minutes). */
const CHECK_CRON = '*/30 * * * * *';

/** Moves running bandits on their cadence (issue 22); each move locks its experiment, so replicas never move one twice at once. */
@Injectable()
export class BanditScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(BanditScheduler.name);

  constructor(
    private readonly experiments: ExperimentsService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({ scheduler: this.scheduler, name: 'bandit-allocation', cronTime: CHECK_CRON, what: 'bandit allocation', work: () => this.experiments.reallocateDue(), logger: this.logger });
  }
}
