import { Injectable } from '@nestjs/common';
import { eligibilityVerdict, referencedSegmentKeys, tierMembershipKey, type EligibilityVerdict } from '../catalog/offer-rules';
import type { OfferRow, OffersTx } from '../catalog/offers.repository';
import { LoyaltyService } from '../loyalty/loyalty.service';
import { EligibilityLookupService } from '../read-model/eligibility-lookup.service';

export type { EligibilityVerdict };

/**
 * Whether a customer may redeem an offer by its eligibility (segments, lifecycle stages, tiers),
 * asked inside the redemption's transaction. A refusal answers 409 with `{ field: 'profileId', problem }`.
 */
export abstract class RedemptionEligibility {
  abstract check(tx: OffersTx, offer: OfferRow, profileId: string): Promise<EligibilityVerdict>;
}

/** Eligibility from offers' read model of segment memberships: no call to segmentation. */
@Injectable()
export class SegmentEligibility extends RedemptionEligibility {
  constructor(
    private readonly lookup: EligibilityLookupService,
    private readonly loyalty: LoyaltyService,
  ) {
    super();
  }

  async check(tx: OffersTx, offer: OfferRow, profileId: string): Promise<EligibilityVerdict> {
    const keys = referencedSegmentKeys(offer.eligibility);
    const memberOf = keys.length > 0 ? await this.lookup.isMember(profileId, keys, tx) : {};
    if ((offer.eligibility.tiers ?? []).length > 0) {
      const tier = await this.loyalty.tierOf(profileId, tx);
      if (tier !== null) memberOf[tierMembershipKey(tier)] = true;
    }
    return eligibilityVerdict(offer.eligibility, memberOf);
  }
}
