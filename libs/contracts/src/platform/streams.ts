/**
 * JetStream streams and subjects (ARCHITECTURE §3). Names are relative: the messaging lib
 * prefixes them with NATS_PREFIX (stream `segmenta_EVENTS`, subject `segmenta.events.track`)
 * so that parallel test runs and several deployments can share one NATS server.
 */
export const STREAMS = {
  EVENTS: { name: 'EVENTS', subjects: ['events.>'] },
  PROFILES: { name: 'PROFILES', subjects: ['profiles.>'] },
  SEGMENTS: { name: 'SEGMENTS', subjects: ['segments.>'] },
  OFFERS: { name: 'OFFERS', subjects: ['offers.>', 'loyalty.>', 'journeys.>'] },
  EXPERIMENTS: { name: 'EXPERIMENTS', subjects: ['experiments.>'] },
  DLQ: { name: 'DLQ', subjects: ['DLQ.>'] },
} as const;

export type StreamKey = keyof typeof STREAMS;
export interface StreamDefinition {
  readonly name: string;
  readonly subjects: readonly string[];
}

export const SEGMENT_EVENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentEventType = (typeof SEGMENT_EVENT_TYPES)[number];

export const SUBJECTS = {
  event: (type: SegmentEventType) => `events.${type}`,
  profilesUpdated: 'profiles.updated',
  profilesMerged: 'profiles.merged',
  profilesActivity: 'profiles.activity',
  profilesErased: 'profiles.erased',
  segmentsEntered: 'segments.entered',
  segmentsExited: 'segments.exited',
  segmentsChanged: 'segments.changed',
  segmentsKpis: 'segments.kpis',
  /** The personalized offers API answered an app: which offers, in which order, for whom (OfferServedV1). */
  offersServed: 'offers.served',
  /** A customer redeemed an offer (OfferRedeemedV1). */
  offersRedeemed: 'offers.redeemed',
  /** An offer's budget crossed 80 % or 100 % (OfferBudgetAlertV1). */
  offersBudgetAlert: 'offers.budget_alert',
  /** A change of a customer's points (LoyaltyPointsChangedV1). */
  loyaltyPoints: 'loyalty.points',
  /** A customer's tier changed (LoyaltyTierChangedV1). */
  loyaltyTierChanged: 'loyalty.tier_changed',
  /** A customer's points expire soon (LoyaltyPointsExpiringV1): a journey can remind them. */
  loyaltyPointsExpiring: 'loyalty.points_expiring',
  journeysDelivered: 'journeys.delivered',
  /** A journey's split sent a customer down the branch of their variant of a running experiment (JourneyExposedV1). */
  journeysExposed: 'journeys.exposed',
  /** The segments an offer or journey targets (SegmentReferencesV1). */
  offersSegmentReferences: 'offers.segment-references',
  /** An experiment was created, changed, started or stopped (ExperimentChangedV1): offers and journeys assign in process from it. */
  experimentsChanged: 'experiments.changed',
  /** A customer's first exposure to an experiment (ExperimentExposedV1). */
  experimentsExposed: 'experiments.exposed',
  experimentsResults: 'experiments.results',
  /** The segments an experiment targets (SegmentReferencesV1). */
  experimentsSegmentReferences: 'experiments.segment-references',
  /** Dead-letter subject for a message of `stream` that consumer `durable` could not apply. */
  deadLetter: (stream: string, durable: string) => `DLQ.${stream}.${durable}`,
} as const;

/** Request/reply (core NATS, @nestjs/microservices) patterns. */
export const RPC_PATTERNS = {
  /** Every service answers `<service>.ping` with its name and status; used by readiness of callers and tests. */
  ping: (service: string) => `${service}.ping`,
} as const;

export const DEFAULT_NATS_PREFIX = 'segmenta';
