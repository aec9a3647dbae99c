import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '@segmenta/chassis';
import { SUBJECTS, type CustomerIdentifierKind, type OfferServedV1, type ServedExperimentV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { unmetEligibility } from '../catalog/offer-rules';
import type { OfferRow } from '../catalog/offers.repository';
import { OffersConfig } from '../config';
import { identifierOf, type ProfileReference } from '../read-model/eligibility-lookup';
import { EligibilityLookupService } from '../read-model/eligibility-lookup.service';
import { CustomerViews } from './customer-views';
import { perCustomerLimitOf } from '../catalog/offers.dto';
import { isUuid } from '../redemptions/redemption-rules';
import { ActiveCatalog, earliestWindowStart, type CatalogSnapshot } from './active-catalog';
import { expectedValue, isForEveryone, offerReasons, rankOffers, rewardMoneyValue, usedUp, type RewardValuation } from './offer-ranking';
import { JourneyDefinitions } from '../journeys/journey-definitions';
import { applyExperiments } from './experiment-offers';
import { programmeHoldout } from './programme-holdout';
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
import { PersonalizationRepository, type CustomerView } from './personalization.repository';

/** An offer the customer may get, before its coupon is settled. */
interface Candidate {
  key: string;
  priority: number;
  expectedValue: number;
  offer: OfferRow;
  reasons: string[];
}

/**
 * The personalized offers API (issue 18): the offers a customer may get now, ranked, with reasons
 * and their coupon code. A request reads the customer in one statement against the active catalog
 * held in memory (ADR 21); every answer is an offers.served exposure, stored in the outbox before
 * the answer goes out (a code reserved on first serve is committed before that, in its own transaction).
 */
@Injectable()
export class PersonalizationService {
  constructor(
    private readonly repository: PersonalizationRepository,
    private readonly lookup: EligibilityLookupService,
    private readonly catalog: ActiveCatalog,
    private readonly customers: CustomerViews,
    private readonly outbox: Outbox,
    private readonly config: OffersConfig,
    private readonly journeys: JourneyDefinitions,
  ) {}

  forProfile(profileId: string, query: CustomerOffersQueryDto): Promise<PersonalizedOffersResponse> {
    if (!isUuid(profileId)) throw ValidationFailedError.of([{ field: 'id', problem: 'must be a profile id (a UUID)' }]);
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

  /** For each segment × lifecycle stage, the active offers (inside their window, with budget left) that apply, and the active journeys. */
  async matrix(): Promise<PersonalizationMatrix> {
    // The catalog as of now (not only as of the last request), picked by the same rule the API serves with.
    const catalog = await this.catalog.atLeast(await this.repository.catalogVersion());
    const offers = catalog.servable(new Date(), undefined);
    const journeys = await this.journeys.active();
    return personalizationMatrix(
      offers.map((o) => ({ key: o.key, name: o.name, priority: o.priority, eligibility: o.eligibility })),
      catalog.segmentNames,
      journeys.map((j) => ({ key: j.key, name: j.name, trigger: j.definition.trigger })),
    );
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
    const { catalog, view } = await this.customerAndCatalog(reference, now);
    // The programme holdout (issue 22): a held-out customer gets no personalized offers; both sides are exposed.
    const holdout = programmeHoldout(catalog.experiments, view.profileId);
    if (holdout?.heldOut) {
      const servedId = randomUUID();
      await this.outbox.append([servedMessage(servedId, view.profileId, reference, placement ?? null, [], now, [holdout.exposure])], { flush: false });
      return { servedId, profileId: view.profileId, placement: placement ?? null, offers: [], heldOut: true };
    }
    // Running experiments on this placement decide which of their offers the customer may get (in process).
    const experimented = applyExperiments(catalog.experiments, placement, view.profileId, (key) => view.segments.has(key), catalog.servable(now, placement));
    if (holdout) experimented.exposures.push(holdout.exposure);
    const ranked = rankOffers(this.candidates(view, experimented.offers, catalog, now));
    const chosen: PersonalizedOffer[] = [];
    for (const candidate of ranked) {
      if (chosen.length >= limit) break;
      const coupon = await this.couponFor(candidate.offer, view);
      if (coupon === 'exhausted') continue;
      chosen.push(toPersonalizedOffer(candidate.offer, coupon, candidate.reasons, candidate.expectedValue));
    }
    const servedId = randomUUID();
    // Group commit: concurrent answers share one INSERT; the answer goes out once its exposure is
    // committed (not waiting for the WAL flush: an exposure lost to a database crash is a gap in statistics).
    await this.outbox.append([servedMessage(servedId, view.profileId, reference, placement ?? null, chosen, now, experimented.exposures)], { flush: false });
    return { servedId, profileId: view.profileId, placement: placement ?? null, offers: chosen };
  }

  /**
   * The customer (one statement) and the catalog at least as new as the version read with them;
   * read again in the rare cases where what was looked up does not fit: a newer catalog has other
   * limited or unique-code offers, or a merge chain needs more than the one hop the statement follows.
   */
  private async customerAndCatalog(reference: ProfileReference, now: Date): Promise<{ catalog: CatalogSnapshot; view: CustomerView }> {
    let catalog = await this.catalog.current();
    for (let reads = 0; ; reads += 1) {
      const view = await this.customers.load(reference, catalog.lookups, earliestWindowStart(catalog.limited, now));
      if (view.chained && reads < 2) {
        const resolved = await this.lookup.resolveProfile(reference);
        if (!resolved) return { catalog, view: { ...view, profileId: null, chained: false, facts: null } };
        reference = { profileId: resolved.profileId };
        continue;
      }
      const newer = await this.catalog.atLeast(view.catalogVersion);
      if (newer.lookups === catalog.lookups || reads >= 2) return { catalog: newer, view };
      catalog = newer;
    }
  }

  /**
   * The offers the customer is eligible for and has not used up, with reasons and expected value.
   * An unknown visitor gets the offers for everyone that need no reserved code (a unique code is
   * held for a profile, and only a profile can redeem).
   */
  private candidates(view: CustomerView, offers: OfferRow[], names: Pick<CatalogSnapshot, 'segmentNames' | 'tierNames'>, now: Date): Candidate[] {
    const valuation: RewardValuation = {
      averageOrderValue: view.facts?.aov ?? null,
      defaultOrderValue: this.config.OFFER_DEFAULT_ORDER_VALUE,
      pointValue: this.config.OFFER_POINT_VALUE,
      freeShippingValue: this.config.OFFER_FREE_SHIPPING_VALUE,
    };
    const propensity = view.facts?.propensities[this.config.OFFER_PROPENSITY_MODEL];
    const candidate = (offer: OfferRow, memberOf: Record<string, boolean>): Candidate => ({
      key: offer.key,
      priority: offer.priority,
      expectedValue: expectedValue(rewardMoneyValue(offer.reward, valuation), propensity),
      offer,
      reasons: offerReasons(offer.eligibility, memberOf, names.segmentNames, names.tierNames),
    });
    if (view.profileId === null) return offers.filter((o) => isForEveryone(o.eligibility) && o.coupons.type !== 'unique').map((o) => candidate(o, {}));
    const member = (key: string) => view.segments.has(key);
    const eligible = offers.filter((o) => unmetEligibility(o.eligibility, member) === null && !usedUp(perCustomerLimitOf(o), view.uses.get(o.id) ?? [], now));
    const memberOf = Object.fromEntries([...view.segments].map((key) => [key, true]));
    return eligible.map((o) => candidate(o, memberOf));
  }

  /**
   * The code the customer gets: none, the shared code, or a unique code reserved for them — the one
   * read with the customer, else one taken from the pool under a per-customer lock (two parallel
   * requests reserve one code, not two). 'exhausted': the pool has no code for them.
   */
  private async couponFor(offer: OfferRow, view: CustomerView): Promise<PersonalizedOffer['coupon'] | 'exhausted'> {
    if (offer.coupons.type === 'none') return null;
    if (offer.coupons.type === 'shared') return { type: 'shared', code: sharedCode(offer.coupons) as string };
    const profileId = view.profileId;
    if (profileId === null) return 'exhausted';
    const held = view.reservedCodes.get(offer.id);
    if (held !== undefined) return { type: 'unique', code: held };
    const code = await this.repository.transaction(async (tx) => {
      await this.repository.lockReservation(tx, offer.id, profileId);
      return (await this.repository.reservedCode(tx, offer.id, profileId)) ?? (await this.repository.reserveCode(tx, offer.id, profileId));
    });
    return code === undefined ? 'exhausted' : { type: 'unique', code };
  }
}

function identifierOfReference(reference: ProfileReference): { kind: CustomerIdentifierKind; value: string } {
  return identifierOf(reference) ?? { kind: 'profile_id', value: (reference as { profileId: string }).profileId };
}

function servedMessage(
  servedId: string,
  profileId: string | null,
  reference: ProfileReference,
  placement: string | null,
  offers: PersonalizedOffer[],
  at: Date,
  experiments: ServedExperimentV1[],
): OutgoingMessage {
  const identifier = identifierOfReference(reference);
  const data: OfferServedV1 = {
    servedId,
    profileId,
    identifier,
    placement,
    offers: offers.map((o) => ({ offerId: o.id, offerKey: o.key })),
    ...(experiments.length > 0 ? { experiments } : {}),
    at: at.toISOString(),
  };
  return {
    subject: SUBJECTS.offersServed,
    envelope: createEnvelope(SUBJECTS.offersServed, data, { id: `served-${servedId}`, occurredAt: at }),
    partitionKey: profileId ?? `${identifier.kind}:${identifier.value}`,
  };
}
