import { SchedulerRegistry } from '@nestjs/schedule';
import { scheduleJob } from './scheduled-job';

describe('scheduleJob', () => {
  it('registers the job under its name and logs a failed run instead of throwing', async () => {
    const scheduler = new SchedulerRegistry();
    const warnings: string[] = [];
    let runs = 0;
    scheduleJob({
      scheduler,
      name: 'every-second',
      cronTime: '* * * * * *',
      what: 'test job',
      work: async () => {
        runs += 1;
        throw new Error('database unreachable');
      },
      logger: { warn: (message) => warnings.push(message) },
    });
    try {
      expect(scheduler.doesExist('cron', 'every-second')).toBe(true);
      const deadline = Date.now() + 3000;
      while (warnings.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(warnings[0]).toBe('scheduled test job failed: database unreachable');
    } finally {
      scheduler.deleteCronJob('every-second');
    }
  });
});
