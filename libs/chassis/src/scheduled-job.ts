import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';

/**
 * Registers a job that runs `work` on `cronTime` (a configured cron expression). A failed run is
 * logged, never thrown: a schedule must not take the service down, and the next tick tries again.
 */
export function scheduleJob(options: { scheduler: SchedulerRegistry; name: string; cronTime: string; what: string; work: () => Promise<unknown>; logger: { warn(message: string): void } }): void {
  const job = CronJob.from({
    cronTime: options.cronTime,
    onTick: () => void options.work().catch((error: unknown) => options.logger.warn(`scheduled ${options.what} failed: ${(error as Error).message}`)),
    start: true,
  });
  options.scheduler.addCronJob(options.name, job);
}
