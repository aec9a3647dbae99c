import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SingleFlight, scheduleJob } from '@segmenta/chassis';
import { OffersConfig } from '../config';
import { LoyaltyService } from './loyalty.service';

/** Releases pending points whose return window has passed (LOYALTY_RELEASE_CRON, every minute by default). */
@Injectable()
export class PointsRelease implements OnApplicationBootstrap {
  private readonly logger = new Logger(PointsRelease.name);
  private readonly running = new SingleFlight<number>();

  constructor(
    private readonly loyalty: LoyaltyService,
    private readonly scheduler: SchedulerRegistry,
    private readonly config: OffersConfig,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({ scheduler: this.scheduler, name: 'loyalty-release', cronTime: this.config.LOYALTY_RELEASE_CRON, what: 'points release', work: () => this.run(), logger: this.logger });
  }

  run(): Promise<number> {
    return this.running.run(() => this.loyalty.releaseDue());
  }
}
