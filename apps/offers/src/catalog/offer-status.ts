/**
 * An offer's life, and the only moves between its states:
 *
 * - draft → scheduled | active. Being written; nothing is served; the only state an offer can be deleted in.
 * - scheduled → draft | active | paused | ended. Approved and waiting for its window; back to draft to rework it.
 * - active → paused | ended. Served to eligible customers within its window.
 * - paused → active | ended. Stopped for now (a mistake, a budget review); resumes as active.
 * - ended: final. Kept for history and reporting: an offer that ran is ended, never deleted.
 */
export const OFFER_STATUSES = ['draft', 'scheduled', 'active', 'paused', 'ended'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

const TRANSITIONS: Readonly<Record<OfferStatus, readonly OfferStatus[]>> = {
  draft: ['scheduled', 'active'],
  scheduled: ['draft', 'active', 'paused', 'ended'],
  active: ['paused', 'ended'],
  paused: ['active', 'ended'],
  ended: [],
};

/** The statuses an offer in `from` may move to (none from ended). */
export function allowedTransitions(from: OfferStatus): readonly OfferStatus[] {
  return TRANSITIONS[from];
}

export function canTransition(from: OfferStatus, to: OfferStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export const isOfferStatus = (value: unknown): value is OfferStatus => typeof value === 'string' && (OFFER_STATUSES as readonly string[]).includes(value);

/**
 * Where time alone moves an offer at `now` (epoch ms), or null: a scheduled offer whose window has
 * begun becomes active; a scheduled, active or paused offer whose window has closed is ended.
 */
export function scheduledMove(offer: { status: OfferStatus; startsAt: number; endsAt: number | null }, now: number): OfferStatus | null {
  const closed = offer.endsAt !== null && offer.endsAt <= now;
  if (closed && (offer.status === 'scheduled' || offer.status === 'active' || offer.status === 'paused')) return 'ended';
  if (!closed && offer.status === 'scheduled' && offer.startsAt <= now) return 'active';
  return null;
}
