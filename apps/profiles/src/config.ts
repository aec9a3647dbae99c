import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, Matches, Max, Min } from 'class-validator';
import { BaseServiceConfig } from '@segmenta/chassis';

/** Profiles' environment: the variables every service reads (ARCHITECTURE §7) plus its own. */
export class ProfilesConfig extends BaseServiceConfig {
  /** Currency features are kept in (minor units). */
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as USD' })
  BASE_CURRENCY = 'USD';

  /** Rates into BASE_CURRENCY, e.g. `EUR=1.08,GBP=1.27`; orders in other currencies are kept apart. */
  @IsOptional()
  @Matches(/^\s*[A-Z]{3}=\d+(\.\d+)?\s*(,\s*[A-Z]{3}=\d+(\.\d+)?\s*)*$/, { message: 'must be a list such as EUR=1.08,GBP=1.27' })
  FX_RATES?: string;

  /** Identifiers per kind a profile may hold, e.g. `user_id=1,email=5,phone=5,custom=5`. */
  @Matches(/^\s*[a-z_]+(:[a-z0-9_.-]+)?=[1-9]\d*\s*(,\s*[a-z_]+(:[a-z0-9_.-]+)?=[1-9]\d*\s*)*$/, { message: 'must be a list such as user_id=1,email=5' })
  IDENTITY_KIND_LIMITS = 'user_id=1,email=5,phone=5,custom=5';

  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1' })
  IDENTITY_MAX_IDENTIFIERS = 1000;

  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(0, { message: 'must be 0 or more' })
  IDENTITY_MAX_MERGES = 100;

  /** Identifier values that never link profiles, `kind:value` comma-separated (more through the admin API). */
  @IsOptional()
  @Matches(/^[^,]+:[^,]+(,[^,]+:[^,]+)*$/, { message: 'must be a list such as anonymous_id:00000000-0000-0000-0000-000000000000,email:test@example.com' })
  IDENTITY_BLOCKLIST?: string;

  /** When the time-dependent features (recency, RFM, lifecycle) are refreshed: a cron expression. */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "0 * * * *"' })
  FEATURES_REFRESH_CRON = '0 * * * *';

  /** When BG/NBD and Gamma-Gamma are refitted on every customer with orders (then P(alive), expected orders and CLV are refreshed). */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "20 3 * * *"' })
  CUSTOMER_MODELS_FIT_CRON = '20 3 * * *';

  /** CLV horizon in months. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of months' })
  @Min(1, { message: 'must be at least 1' })
  CLV_MONTHS = 12;

  /** Share of revenue that is profit (1: CLV in revenue). */
  @Type(() => Number)
  @IsNumber({}, { message: 'must be a number' })
  @Min(0.0001, { message: 'must be more than 0' })
  @Max(1, { message: 'must be at most 1' })
  CLV_MARGIN = 1;

  /** Discount rate per month applied to future orders in CLV. */
  @Type(() => Number)
  @IsNumber({}, { message: 'must be a number' })
  @Min(0, { message: 'must be at least 0' })
  @Max(1, { message: 'must be at most 1' })
  CLV_MONTHLY_DISCOUNT = 0.01;
}
