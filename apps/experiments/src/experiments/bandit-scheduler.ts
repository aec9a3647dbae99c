import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ExperimentsService } from './experiments.service';

/** How often replicas look for bandits due to move: their cadence is in minutes. */
const CHECK_EVERY_MS = 30_000;

/** Moves running bandits on their cadence (issue 22); each move locks its experiment, so replicas never move one twice at once. */
@Injectable()
export class BanditScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BanditScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly experiments: ExperimentsService) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running = this.experiments.reallocateDue().catch((error: unknown) => this.logger.warn(`moving bandits failed: ${(error as Error).message}`));
    }, CHECK_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
