import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '@segmenta/chassis';
import { SUBJECTS, type CustomerIdentifierKind, type OfferServedV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { eligibilityVerdict, referencedSegmentKeys } from '../catalog/offer-rules';
import type { OfferRow, OffersTx } from '../catalog/offers.repository';
import { OffersConfig } from '../config';
import { identifierOf, type ProfileReference } from '../read-model/eligibility-lookup';
import { EligibilityLookupService, type ResolvedProfile } from '../read-model/eligibility-lookup.service';
import { limitWindowStart } from '../redemptions/redemption-rules';
import { expectedValue, isForEveryone, offerReasons, rankOffers, rewardMoneyValue, usedUp, type RewardValuation } from './offer-ranking';
import { matrixCsv, personalizationMatrix, type PersonalizationMatrix } from './personalization-matrix';
import {
  DEFAULT_OFFERS_LIMIT,
  sharedCode,
  toPersonalizedOffer,
  type CustomerOffersByIdentifierQueryDto,
  type CustomerOffersQueryDto,
  type PersonalizedOffer,
  type PersonalizedOffersResponse,
} from './personalization.dto';
import { PersonalizationRepository } from './personalization.repository';

/** An offer the customer may get, before its coupon is settled. */
interface Candidate {
  key: string;
  priority: number;
  expectedValue: number;
  offer: OfferRow;
  reasons: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The personalized offers API (issue 18): the offers a customer may get now, ranked, with reasons
 * and their coupon code; every answer is an offers.served exposure written to the outbox in the
 * transaction that reserves its codes.
 */
@Injectable()
export class PersonalizationService {
  constructor(
    private readonly repository: PersonalizationRepository,
    private readonly lookup: EligibilityLookupService,
    private readonly outbox: Outbox,
    private readonly config: OffersConfig,
  ) {}

  forProfile(profileId: string, query: CustomerOffersQueryDto): Promise<PersonalizedOffersResponse> {
    if (!UUID.test(profileId)) throw ValidationFailedError.of([{ field: 'id', problem: 'must be a profile id (a UUID)' }]);
    return this.serve({ profileId: profileId.toLowerCase() }, query);
  }

  forIdentifier(query: CustomerOffersByIdentifierQueryDto): Promise<PersonalizedOffersResponse> {
    const given = (['userId', 'anonymousId', 'email'] as const).filter((field) => query[field] !== undefined);
    if (given.length !== 1)
      throw ValidationFailedError.of((given.length === 0 ? ['userId'] : given).map((field) => ({ field, problem: 'give exactly one of userId, anonymousId, email to name the customer' })));
    const field = given[0];
    const value = query[field] as string;
    const reference: ProfileReference = field === 'userId' ? { userId: value } : field === 'anonymousId' ? { anonymousId: value } : { email: value };
    return this.serve(reference, query);
  }

  /** For each segment × lifecycle stage, the active offers (inside their window, with budget left) that apply. */
  async matrix(): Promise<PersonalizationMatrix> {
    const offers = await this.repository.servable(new Date());
    return personalizationMatrix(offers.map((o) => ({ key: o.key, name: o.name, priority: o.priority, eligibility: o.eligibility })));
  }

  async matrixCsv(): Promise<string> {
    return matrixCsv(await this.matrix());
  }

  private async serve(reference: ProfileReference, query: CustomerOffersQueryDto): Promise<PersonalizedOffersResponse> {
    const placement = query.placement;
    if (placement !== undefined && !this.config.offerPlacements.includes(placement))
      throw ValidationFailedError.of([{ field: 'placement', problem: `is not a known placement (allowed: ${this.config.offerPlacements.join(', ')})` }]);
    const limit = query.limit ?? DEFAULT_OFFERS_LIMIT;
    const now = new Date();
    const [profile, offers] = await Promise.all([this.lookup.resolveProfile(reference), this.repository.servable(now, placement)]);
    const ranked = rankOffers(await this.candidates(profile, offers, now));
    const profileId = profile?.profileId ?? null;
    const servedId = randomUUID();
    const served = await this.repository.transaction(async (tx) => {
      const chosen: PersonalizedOffer[] = [];
      for (const candidate of ranked) {
        if (chosen.length >= limit) break;
        const coupon = await this.couponFor(tx, candidate.offer, profileId);
        if (coupon === 'exhausted') continue;
        chosen.push(toPersonalizedOffer(candidate.offer, coupon, candidate.reasons, candidate.expectedValue));
      }
      await this.outbox.write(tx, [servedMessage(servedId, profileId, reference, placement ?? null, chosen, now)]);
      return chosen;
    });
    this.outbox.wake();
    return { servedId, profileId, placement: placement ?? null, offers: served };
  }

  /**
   * The offers the customer is eligible for and has not used up, with reasons and expected value.
   * An unknown visitor gets the offers for everyone that need no reserved code (a unique code is
   * held for a profile, and only a profile can redeem).
   */
  private async candidates(profile: ResolvedProfile | null, offers: OfferRow[], now: Date): Promise<Candidate[]> {
    const valuation: RewardValuation = {
      averageOrderValue: profile?.facts?.aov ?? null,
      defaultOrderValue: this.config.OFFER_DEFAULT_ORDER_VALUE,
      pointValue: this.config.OFFER_POINT_VALUE,
      freeShippingValue: this.config.OFFER_FREE_SHIPPING_VALUE,
    };
    const propensity = profile?.facts?.propensities[this.config.OFFER_PROPENSITY_MODEL];
    const candidate = (offer: OfferRow, memberOf: Record<string, boolean>): Candidate => ({
      key: offer.key,
      priority: offer.priority,
      expectedValue: expectedValue(rewardMoneyValue(offer.reward, valuation), propensity),
      offer,
      reasons: offerReasons(offer.eligibility, memberOf),
    });
    if (!profile) return offers.filter((o) => isForEveryone(o.eligibility) && o.coupons.type !== 'unique').map((o) => candidate(o, {}));

    const keys = [...new Set(offers.flatMap((o) => referencedSegmentKeys(o.eligibility)))];
    const memberOf = keys.length > 0 ? await this.lookup.isMember(profile.profileId, keys) : {};
    const eligible = offers.filter((o) => eligibilityVerdict(o.eligibility, memberOf).eligible);
    const limited = eligible.filter((o) => o.perCustomerLimit !== null);
    const times = await this.repository.redemptionTimes(
      profile.profileId,
      limited.map((o) => o.id),
      earliestWindowStart(limited, now),
    );
    return eligible.filter((o) => !usedUp(limitOf(o), times.get(o.id) ?? [], now)).map((o) => candidate(o, memberOf));
  }

  /**
   * The code the customer gets: none, the shared code, or a unique code reserved for them — the one
   * reserved before, else one taken from the pool under a per-customer lock (two parallel requests
   * reserve one code, not two). 'exhausted': the pool has no code for them.
   */
  private async couponFor(tx: OffersTx, offer: OfferRow, profileId: string | null): Promise<PersonalizedOffer['coupon'] | 'exhausted'> {
    if (offer.coupons.type === 'none') return null;
    if (offer.coupons.type === 'shared') return { type: 'shared', code: sharedCode(offer.coupons) as string };
    if (profileId === null) return 'exhausted';
    let code = await this.repository.reservedCode(tx, offer.id, profileId);
    if (code === undefined) {
      await this.repository.lockReservation(tx, offer.id, profileId);
      code = (await this.repository.reservedCode(tx, offer.id, profileId)) ?? (await this.repository.reserveCode(tx, offer.id, profileId));
    }
    return code === undefined ? 'exhausted' : { type: 'unique', code };
  }
}

const limitOf = (offer: OfferRow) =>
  offer.perCustomerLimit === null ? null : { count: offer.perCustomerLimit, ...(offer.perCustomerPeriodDays !== null ? { periodDays: offer.perCustomerPeriodDays } : {}) };

/** The earliest redemption any of these limits counts (null: one counts every redemption ever). */
function earliestWindowStart(offers: OfferRow[], now: Date): Date | null {
  let earliest: Date | null = null;
  for (const offer of offers) {
    const limit = limitOf(offer);
    const start = limit === null ? null : limitWindowStart(limit, now);
    if (start === null) return null;
    if (earliest === null || start < earliest) earliest = start;
  }
  return earliest;
}

function identifierOfReference(reference: ProfileReference): { kind: CustomerIdentifierKind; value: string } {
  return identifierOf(reference) ?? { kind: 'profile_id', value: (reference as { profileId: string }).profileId };
}

function servedMessage(servedId: string, profileId: string | null, reference: ProfileReference, placement: string | null, offers: PersonalizedOffer[], at: Date): OutgoingMessage {
  const identifier = identifierOfReference(reference);
  const data: OfferServedV1 = { servedId, profileId, identifier, placement, offers: offers.map((o) => ({ offerId: o.id, offerKey: o.key })), at: at.toISOString() };
  return {
    subject: SUBJECTS.offersServed,
    envelope: createEnvelope(SUBJECTS.offersServed, data, { id: `served-${servedId}`, occurredAt: at }),
    partitionKey: profileId ?? `${identifier.kind}:${identifier.value}`,
  };
}
