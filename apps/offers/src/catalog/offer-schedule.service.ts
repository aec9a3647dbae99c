import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SingleFlight, scheduleJob } from '@segmenta/chassis';
import { OffersConfig } from '../config';
import { scheduledMove, type OfferStatus } from './offer-status';
import { OffersRepository } from './offers.repository';
import { OffersService } from './offers.service';

/** The audit trail's actor for the moves time makes. */
export const SCHEDULE_ACTOR = 'schedule';

/**
 * Moves offers by their windows (OFFERS_SCHEDULE_CRON, every minute): a scheduled offer becomes
 * active when its start comes, and an offer is ended when its end passes. Each move goes through
 * the same status change as an admin's (checks, audit entry with actor "schedule", segment
 * references), so a scheduled unique-code offer without codes stays scheduled, and says why.
 */
@Injectable()
export class OfferSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(OfferSchedule.name);
  private readonly running = new SingleFlight<Array<{ key: string; to: OfferStatus }>>();

  constructor(
    private readonly repository: OffersRepository,
    private readonly offers: OffersService,
    private readonly scheduler: SchedulerRegistry,
    private readonly config: OffersConfig,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({ scheduler: this.scheduler, name: 'offers-schedule', cronTime: this.config.OFFERS_SCHEDULE_CRON, what: 'offer schedule', work: () => this.apply(), logger: this.logger });
  }

  /** Applies every move due now; returns the moves made. */
  apply(now = new Date()): Promise<Array<{ key: string; to: OfferStatus }>> {
    return this.running.run(async () => {
      const moved: Array<{ key: string; to: OfferStatus }> = [];
      for (const offer of await this.repository.dueForSchedule(now)) {
        const to = scheduledMove({ status: offer.status, startsAt: offer.startsAt.getTime(), endsAt: offer.endsAt?.getTime() ?? null }, now.getTime());
        if (to === null) continue;
        try {
          await this.offers.changeStatus(offer.key, to, SCHEDULE_ACTOR);
          moved.push({ key: offer.key, to });
        } catch (error) {
          this.logger.warn(`offer "${offer.key}" stays ${offer.status}: ${(error as Error).message}`);
        }
      }
      if (moved.length > 0) this.logger.log(`schedule: ${moved.map((m) => `${m.key} → ${m.to}`).join(', ')}`);
      return moved;
    });
  }
}
