import { Matches } from 'class-validator';
import { BaseServiceConfig } from '@segmenta/chassis';

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

  /** OFFER_PLACEMENTS as a list. */
  get offerPlacements(): string[] {
    return [...new Set(this.OFFER_PLACEMENTS.split(','))];
  }
}
