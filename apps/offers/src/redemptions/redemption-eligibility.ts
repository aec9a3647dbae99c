import { Injectable } from '@nestjs/common';
import type { OfferRow, OffersTx } from '../catalog/offers.repository';

export type EligibilityVerdict = { eligible: true } | { eligible: false; problem: string };

/**
 * Whether a customer may redeem an offer by its eligibility (segments, tiers, lifecycle stages),
 * asked inside the redemption's transaction. This is the hook the membership read model replaces:
 * it provides its own implementation under this token (`{ provide: RedemptionEligibility, useClass: … }`).
 * A refusal answers 409 with `{ field: 'profileId', problem }`.
 */
export abstract class RedemptionEligibility {
  abstract check(tx: OffersTx, offer: OfferRow, profileId: string): Promise<EligibilityVerdict>;
}

/** Until the read model of memberships exists: everyone is eligible. */
@Injectable()
export class EveryoneEligible extends RedemptionEligibility {
  check(): Promise<EligibilityVerdict> {
    return Promise.resolve({ eligible: true });
  }
}
