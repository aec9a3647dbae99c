import { Type } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { BaseServiceConfig } from '@segmenta/chassis';

/** Segmentation's environment: the variables every service reads (ARCHITECTURE §7) plus its own. */
export class SegmentationConfig extends BaseServiceConfig {
  /** How long behaviour facts are kept: behavioural windows can look back this far at most. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of days' })
  @Min(1, { message: 'must be at least 1' })
  @Max(3650, { message: 'must be at most 3650' })
  BEHAVIOUR_RETENTION_DAYS = 400;

  /**
   * When segments are re-evaluated for time alone: time-based rules (`within`, `first`, `last`)
   * change without an event, and this is their freshness target. Only profiles with a fact that
   * crossed a window or age boundary since the last pass are evaluated (ADR 19).
   */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "*/15 * * * *"' })
  SEGMENTS_RECOMPUTE_CRON = '*/15 * * * *';

  /** When every segment is evaluated over every profile: the safety net behind the passes above. */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "20 4 * * *"' })
  SEGMENTS_FULL_RECOMPUTE_CRON = '20 4 * * *';

  /** PostgreSQL work_mem for a recompute's statements (hash aggregation and joins in memory). */
  @Matches(/^\d+\s*(kB|MB|GB)$/, { message: 'must be a PostgreSQL memory size such as "256MB"' })
  SEGMENTS_RECOMPUTE_WORK_MEM = '512MB';

  /** Connections a full recompute uses at once, one partition of the profiles each (PGlite: always 1). */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1' })
  @Max(8, { message: 'must be at most 8 (the number of partitions)' })
  SEGMENTS_RECOMPUTE_CONCURRENCY = 2;

  /** When every segment's KPIs are snapshotted and published (segments.kpis). */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "5 * * * *"' })
  SEGMENTS_KPIS_CRON = '5 * * * *';

  /** When micro-segments are discovered again (k-means over the profile view; clusters keep their ids). */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "40 4 * * *"' })
  SEGMENTS_DISCOVER_CRON = '40 4 * * *';

  /** Range for the number of discovered segments on the scheduled run (a request body may set its own); the smallest k within noise of the best silhouette is taken. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(2, { message: 'must be at least 2' })
  @Max(100, { message: 'must be at most 100' })
  SEGMENTS_DISCOVER_K_MIN = 8;

  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(2, { message: 'must be at least 2' })
  @Max(100, { message: 'must be at most 100' })
  SEGMENTS_DISCOVER_K_MAX = 30;
}
