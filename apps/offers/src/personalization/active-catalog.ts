import type { ExperimentChangedV1 } from '@segmenta/contracts';
import { Injectable } from '@nestjs/common';
import { SingleFlight } from '@segmenta/chassis';
import { perCustomerLimitOf } from '../catalog/offers.dto';
import type { OfferRow } from '../catalog/offers.repository';
import { limitWindowStart } from '../redemptions/redemption-rules';
import { PersonalizationRepository, type CustomerViewLookups } from './personalization.repository';

/** The active offers at one catalog version, and what a request looks up of a customer for them. */
/** The offers a snapshot serves on one placement (or all), for as long as no window starts or ends. */
interface ServableNow {
  offers: OfferRow[];
  /** The next start or end of a window after the moment they were picked (ms; Infinity: none). */
  validUntil: number;
  pickedAt: number;
}

export interface CatalogSnapshot {
  version: number;
  offers: OfferRow[];
  /** Segment names by key, for reasons. */
  segmentNames: Readonly<Record<string, string>>;
  /** Loyalty tier names by key, for reasons. */
  tierNames: Readonly<Record<string, string>>;
  /** The running experiments offers assign in process (experiments.changed). */
  experiments: readonly ExperimentChangedV1[];
  lookups: Omit<CustomerViewLookups, 'usesSince'>;
  /** The offers with a per-customer limit (their uses are looked up with the customer). */
  limited: OfferRow[];
  /** The offers servable at `now` on the placement (undefined: any), picked again only when a window starts or ends. */
  servable(now: Date, placement: string | undefined): OfferRow[];
}

/** The earliest redemption any of these offers' limits counts at `now` (null: one counts every redemption ever). */
export function earliestWindowStart(offers: readonly OfferRow[], now: Date): Date | null {
  let earliest: Date | null = null;
  for (const offer of offers) {
    const limit = perCustomerLimitOf(offer);
    const start = limit === null ? null : limitWindowStart(limit, now);
    if (start === null) return null;
    if (earliest === null || start < earliest) earliest = start;
  }
  return earliest;
}

/** Whether an active offer can be served at `now`: inside its window, with budget left, on the placement when one is asked. */
export function servableAt(offer: OfferRow, now: Date, placement: string | undefined): boolean {
  if (offer.startsAt > now || (offer.endsAt !== null && offer.endsAt <= now)) return false;
  if (offer.budgetKind !== 'none' && !(offer.budgetTotal !== null && offer.budgetUsed < offer.budgetTotal)) return false;
  return placement === undefined || offer.placements.includes(placement);
}

/** The first window start or end after `at` among the offers (Infinity: none). */
function nextWindowEdge(offers: readonly OfferRow[], at: number): number {
  let next = Infinity;
  for (const offer of offers) for (const edge of [offer.startsAt.getTime(), offer.endsAt?.getTime() ?? Infinity]) if (edge > at && edge < next) next = edge;
  return next;
}

/** A catalog at one version: its offers, names and lookups, and what it serves when. */
export function catalogSnapshot(
  version: number,
  offers: OfferRow[],
  segmentNames: Record<string, string>,
  tierNames: Record<string, string> = {},
  experiments: readonly ExperimentChangedV1[] = [],
): CatalogSnapshot {
  const picked = new Map<string, ServableNow>();
  const limited = offers.filter((o) => o.perCustomerLimit !== null);
  return {
    version,
    offers,
    segmentNames,
    tierNames,
    experiments,
    limited,
    servable(now, placement) {
      const at = now.getTime();
      const key = placement ?? '';
      let current = picked.get(key);
      // Again when a window edge is passed, or when the clock went back past the last pick.
      if (!current || at >= current.validUntil || at < current.pickedAt) {
        current = { offers: offers.filter((offer) => servableAt(offer, now, placement)), validUntil: nextWindowEdge(offers, at), pickedAt: at };
        picked.set(key, current);
      }
      return current.offers;
    },
    lookups: {
      limitedOfferIds: limited.map((o) => o.id),
      uniqueOfferIds: offers.filter((o) => o.coupons.type === 'unique').map((o) => o.id),
    },
  };
}

/**
 * The active offers in memory, so that a personalized request reads only the customer (ADR 21).
 * Segment names come with it (a new name moves the version too). Every request reads offers.catalog_version with the customer; a version other than the one held
 * reloads the catalog before the answer, so a change made through any replica (an offer paused,
 * a budget used up) is served by every replica from its next request on.
 */
@Injectable()
export class ActiveCatalog {
  private held: CatalogSnapshot | undefined;
  private readonly loading = new SingleFlight<CatalogSnapshot>();

  constructor(private readonly repository: PersonalizationRepository) {}

  /** The catalog held, loaded on first use. */
  async current(): Promise<CatalogSnapshot> {
    return this.held ?? this.reload();
  }

  /** A catalog at `version` or later: a load already under way may predate it, so load until it is reached. */
  async atLeast(version: number): Promise<CatalogSnapshot> {
    let snapshot = await this.current();
    for (let tries = 0; snapshot.version < version && tries < 3; tries += 1) snapshot = await this.reload();
    return snapshot;
  }

  private reload(): Promise<CatalogSnapshot> {
    return this.loading.run(async () => {
      const { version, offers, segmentNames, tierNames, experiments } = await this.repository.activeCatalog();
      // A slower load that started earlier never replaces a newer catalog.
      if (!this.held || version >= this.held.version) this.held = catalogSnapshot(version, offers, segmentNames, tierNames, experiments);
      return this.held;
    });
  }
}
