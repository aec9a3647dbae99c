import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { BaseServiceConfig } from '@segmenta/chassis';

/** Ingestion's environment: the variables every service reads (ARCHITECTURE §7) and its own. */
export class IngestionConfig extends BaseServiceConfig {
  /**
   * How long an unknown write key is answered 401 from memory before the database is asked again
   * (a flood of one wrong key costs one look-up per this period). Short, so that a key made valid
   * on another replica is not refused for long; this replica forgets it when it creates the key.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of seconds from 0 to 300 (0: no negative cache)' })
  @Min(0, { message: 'must be an integer number of seconds from 0 to 300 (0: no negative cache)' })
  @Max(300, { message: 'must be an integer number of seconds from 0 to 300 (0: no negative cache)' })
  WRITE_KEY_NEGATIVE_CACHE_SECONDS = 10;
}
