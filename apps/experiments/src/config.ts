import { Matches } from 'class-validator';
import { BaseServiceConfig } from '@segmenta/chassis';

/** Experiments's environment: the variables every service reads (ARCHITECTURE §7) plus its own. */
export class ExperimentsConfig extends BaseServiceConfig {
  /** When every running experiment's results by segment are recomputed and published (experiments.results), for segmentation's KPI view. */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "*/15 * * * *"' })
  EXPERIMENTS_RESULTS_CRON = '*/15 * * * *';
}
