import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SingleFlight, scheduleJob } from '@segmenta/chassis';
import { OffersConfig } from '../config';
import { LoyaltyService } from './loyalty.service';

/**
 * The loyalty jobs (LOYALTY_JOBS_CRON, every minute by default): pending points whose return window
 * has passed become available, points past their expiry expire (oldest first), loyalty.points_expiring
 * is published ahead of an expiry, tiers whose review date and grace period have passed are reviewed,
 * and today's birthdays get their bonus.
 */
@Injectable()
export class LoyaltyJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger(LoyaltyJobs.name);
  private readonly running = new SingleFlight<{ released: number; expired: number; announced: number; reviewed: number; birthdays: number }>();

  constructor(
    private readonly loyalty: LoyaltyService,
    private readonly scheduler: SchedulerRegistry,
    private readonly config: OffersConfig,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({ scheduler: this.scheduler, name: 'loyalty-jobs', cronTime: this.config.LOYALTY_JOBS_CRON, what: 'loyalty jobs', work: () => this.run(), logger: this.logger });
  }

  run(now = new Date()) {
    return this.running.run(async () => ({
      released: await this.loyalty.releaseDue(now),
      expired: await this.loyalty.expireDue(now),
      announced: await this.loyalty.announceExpiring(now),
      reviewed: await this.loyalty.reviewTiersDue(now),
      birthdays: await this.loyalty.awardBirthdays(now),
    }));
  }
}
