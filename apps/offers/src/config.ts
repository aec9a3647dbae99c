import { Type } from 'class-transformer';
import { IsInt, Matches, Max, Min, Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { canonicalTimeZone } from './catalog/validity-window';
import { BaseServiceConfig } from '@segmenta/chassis';

@ValidatorConstraint({ name: 'ianaTimeZone' })
class IanaTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return canonicalTimeZone(value) !== undefined;
  }

  defaultMessage(): string {
    return 'must be an IANA time zone such as "Europe/Berlin" or "UTC"';
  }
}

/** Offers's environment: the variables every service reads (ARCHITECTURE §7) plus its own. */
export class OffersConfig extends BaseServiceConfig {
  /**
   * Where offers can be shown, comma-separated: an offer names some of these and an app asks for
   * the offers of one. A shop adds its own surfaces (say `receipt`) without a code change.
   */
  @Matches(/^[a-z][a-z0-9_]{0,39}(,[a-z][a-z0-9_]{0,39}){0,49}$/, { message: 'must be comma-separated placement names (lower-case letters, digits and _), such as "home_banner,checkout"' })
  OFFER_PLACEMENTS = 'home_banner,checkout,email,app_inbox,product_page';

  /** When offers are moved by their windows: scheduled → active at the start, → ended at the end. */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "* * * * *"' })
  OFFERS_SCHEDULE_CRON = '* * * * *';

  /** When the loyalty jobs run: pending points become available, points expire and are announced ahead, tiers are reviewed (a customer's read releases and expires theirs at once). */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression such as "* * * * *"' })
  LOYALTY_JOBS_CRON = '* * * * *';

  /**
   * The propensity model (profiles' feature propensity_<name>) that scores how likely a customer
   * redeems an offer: the personalized offers API weights each reward's value by it when known.
   */
  @Matches(/^[a-z][a-z0-9_]{0,39}$/, { message: 'must be a propensity model name: lower-case letters, digits and _' })
  OFFER_PROPENSITY_MODEL = 'offer_redemption';

  /** The order value (minor units) a percent reward is measured on when the customer's average is unknown. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of minor units' })
  @Min(0, { message: 'must be at least 0' })
  @Max(100_000_000, { message: 'must be at most 100000000' })
  OFFER_DEFAULT_ORDER_VALUE = 5000;

  /** What one loyalty point is worth, minor units: ranks bonus points against money off. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of minor units' })
  @Min(0, { message: 'must be at least 0' })
  @Max(1_000_000, { message: 'must be at most 1000000' })
  OFFER_POINT_VALUE = 1;

  /** What free shipping saves on an order, minor units. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of minor units' })
  @Min(0, { message: 'must be at least 0' })
  @Max(1_000_000, { message: 'must be at most 1000000' })
  OFFER_FREE_SHIPPING_VALUE = 500;

  /** How often journeys look for due steps and due deliveries (they are also woken at once by new entries and sends). */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of milliseconds' })
  @Min(50, { message: 'must be at least 50' })
  @Max(60_000, { message: 'must be at most 60000' })
  JOURNEY_POLL_MS = 1000;

  /** How many due enrollments one executor transaction runs (and deliveries one round sends). */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1' })
  @Max(10_000, { message: 'must be at most 10000' })
  JOURNEY_BATCH_SIZE = 500;

  /** The time zone of a customer whose identify calls carry no `timezone` trait (waits until a time of day, quiet hours). */
  @Validate(IanaTimeZone)
  JOURNEY_DEFAULT_TIME_ZONE = 'UTC';

  private placements?: readonly string[];

  /** OFFER_PLACEMENTS as a list, split once (every personalized request checks its placement against it). */
  get offerPlacements(): readonly string[] {
    return (this.placements ??= [...new Set(this.OFFER_PLACEMENTS.split(','))]);
  }
}
