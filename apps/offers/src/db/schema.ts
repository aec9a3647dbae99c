import { outboxTables } from '@segmenta/messaging';
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, doublePrecision, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { CouponHandling, OfferEligibility, OfferReward } from '../catalog/offer-rules';
import type { ExperimentChangedV1 } from '@segmenta/contracts';
import type { JourneyDefinition } from '../journeys/journey-definition';
import type { EarnRuleDefinition } from '../loyalty/earning';

/** Offers' tables; no other service reads them (ARCHITECTURE §1). */
export const offersSchema = pgSchema('offers');

const tz = (name: string) => timestamp(name, { withTimezone: true });

/**
 * The offer catalog. Money is integer minor units plus a currency. The validity window is kept as
 * the admin wrote it (local date-times and an IANA zone) and as the instants they resolve to.
 * Columns of the first skeleton are kept under their names (per_customer_limit is the count).
 */
export const offers = offersSchema.table(
  'offers',
  {
    id: uuid('id').primaryKey(),
    key: text('key').notNull().unique(),
    name: text('name').notNull(),
    /** Shown to the customer. */
    description: text('description').notNull().default(''),
    reward: jsonb('reward').$type<OfferReward>().notNull(),
    /** Product categories the reward applies to; null: every category. */
    categories: text('categories').array(),
    eligibility: jsonb('eligibility').$type<OfferEligibility>().notNull(),
    placements: text('placements').array().notNull(),
    priority: integer('priority').notNull().default(0),
    startsAtLocal: text('starts_at_local').notNull(),
    endsAtLocal: text('ends_at_local'),
    timeZone: text('time_zone').notNull(),
    startsAt: tz('starts_at').notNull(),
    /** null: no end. */
    endsAt: tz('ends_at'),
    budgetKind: text('budget_kind', { enum: ['none', 'redemptions', 'amount'] })
      .notNull()
      .default('none'),
    /** Redemptions, or minor units of budget_currency. */
    budgetTotal: bigint('budget_total', { mode: 'number' }),
    budgetCurrency: text('budget_currency'),
    budgetUsed: bigint('budget_used', { mode: 'number' }).notNull().default(0),
    /** Redemptions one customer may make (null: no limit)… */
    perCustomerLimit: integer('per_customer_limit'),
    /** …within this many days (null: ever). */
    perCustomerPeriodDays: integer('per_customer_period_days'),
    coupons: jsonb('coupons').$type<CouponHandling>().notNull(),
    status: text('status', { enum: ['draft', 'scheduled', 'active', 'paused', 'ended'] })
      .notNull()
      .default('draft'),
    /** Grows with every save: the revision of offers.segment-references. */
    revision: integer('revision').notNull().default(1),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (table) => [
    index('offers_status_idx').on(table.status, table.key),
    check('offers_window_ordered', sql`${table.endsAt} is null or ${table.endsAt} > ${table.startsAt}`),
    check('offers_budget_used_nonnegative', sql`${table.budgetUsed} >= 0`),
  ],
);

/** The pool of an offer with unique codes: each code is redeemable once. Codes are stored upper-case. */
export const couponCodes = offersSchema.table(
  'coupon_codes',
  {
    offerId: uuid('offer_id').notNull(),
    code: text('code').notNull(),
    status: text('status', { enum: ['available', 'reserved', 'redeemed'] })
      .notNull()
      .default('available'),
    /** The request that added it (its idempotency key or a fresh id): a retried generation adds nothing. */
    batch: text('batch').notNull(),
    source: text('source', { enum: ['generated', 'uploaded'] }).notNull(),
    /** The customer a reserved code is held for (only they may redeem it); null for an available code. */
    reservedFor: uuid('reserved_for'),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.offerId, table.code] }),
    index('coupon_codes_batch_idx').on(table.offerId, table.batch),
    index('coupon_codes_status_idx').on(table.offerId, table.status),
    // A customer holds at most one reserved code of an offer: the personalized offers API serves it again.
    uniqueIndex('coupon_codes_one_reservation_idx')
      .on(table.offerId, table.reservedFor)
      .where(sql`status = 'reserved'`),
  ],
);

/** Every change to an offer: who (API key id), when, what (field → from/to). Kept after the offer is deleted. */
export const offerChanges = offersSchema.table(
  'offer_changes',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    offerId: uuid('offer_id').notNull(),
    offerKey: text('offer_key').notNull(),
    action: text('action', { enum: ['created', 'updated', 'status_changed', 'codes_added', 'deleted'] }).notNull(),
    actor: text('actor').notNull(),
    changes: jsonb('changes').$type<Record<string, { from: unknown; to: unknown }>>().notNull(),
    at: tz('at').notNull().defaultNow(),
  },
  (table) => [index('offer_changes_offer_idx').on(table.offerId, table.seq)],
);

/**
 * One row per successful redemption (ADR 20). `idempotency_key` is unique: one key never makes two
 * redemptions. `budget_units` is what it took from the offer's budget (1 redemption, or minor units
 * of the budget's currency, or 0 without a budget) and what a cancel gives back; a cancelled
 * redemption no longer counts against the customer's limit. `seq` orders the listing (newest first).
 */
export const redemptions = offersSchema.table(
  'redemptions',
  {
    id: uuid('id').primaryKey(),
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    offerId: uuid('offer_id').notNull(),
    offerKey: text('offer_key').notNull(),
    profileId: uuid('profile_id').notNull(),
    /** Upper-case, as stored in the pool or the offer; null when the offer needs no code. */
    code: text('code'),
    orderId: text('order_id'),
    /** Minor units of order_currency. */
    orderAmount: bigint('order_amount', { mode: 'number' }),
    orderCurrency: text('order_currency'),
    rewardType: text('reward_type').notNull(),
    /** The reward's money value on this order, minor units of reward_currency; null when it has none. */
    rewardValue: bigint('reward_value', { mode: 'number' }),
    rewardCurrency: text('reward_currency'),
    budgetKind: text('budget_kind', { enum: ['none', 'redemptions', 'amount'] }).notNull(),
    budgetUnits: bigint('budget_units', { mode: 'number' }).notNull(),
    status: text('status', { enum: ['redeemed', 'cancelled'] })
      .notNull()
      .default('redeemed'),
    redeemedAt: tz('redeemed_at').notNull().defaultNow(),
    cancelledAt: tz('cancelled_at'),
  },
  (table) => [
    index('redemptions_customer_idx').on(table.offerId, table.profileId, table.redeemedAt),
    index('redemptions_offer_seq_idx').on(table.offerId, table.seq),
    check('redemptions_budget_units_nonnegative', sql`${table.budgetUnits} >= 0`),
  ],
);

/**
 * The answer given to each Idempotency-Key of POST /v1/redemptions, refusals included: a retry with
 * the same key and body gets it again (status and body) and changes nothing; the same key with
 * another body (another fingerprint) is refused with 422. Inserted first in the redemption's
 * transaction, so a concurrent request with the same key waits on the primary key and then replays.
 */
export const redemptionRequests = offersSchema.table('redemption_requests', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  /** SHA-256 of the request body's fields. */
  fingerprint: text('fingerprint').notNull(),
  statusCode: integer('status_code').notNull(),
  response: jsonb('response').$type<Record<string, unknown>>().notNull(),
  redemptionId: uuid('redemption_id'),
  createdAt: tz('created_at').notNull().defaultNow(),
});

/**
 * The read model of segment memberships (ARCHITECTURE §4), from segments.entered/exited and
 * segmentation's snapshot pages. An exit keeps its row as a non-member: `seq` (the last change
 * applied to the pair) is what stops a redelivered or replayed older change from regressing it.
 */
export const membershipView = offersSchema.table(
  'membership_view',
  {
    segmentId: uuid('segment_id').notNull(),
    segmentKey: text('segment_key').notNull(),
    profileId: uuid('profile_id').notNull(),
    member: boolean('member').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    /** The rebuild that last saw the pair in segmentation's pages: the rebuild's sweep leaves the others as non-members. */
    rebuildMark: integer('rebuild_mark').notNull().default(0),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.segmentId, table.profileId] }), index('membership_view_profile_idx').on(table.profileId, table.segmentKey)],
);

/**
 * The name of each segment (segments.changed, and segmentation's head on a rebuild): reasons say
 * "member of Camera fans this week", not the key. A change of a name moves catalog_version.
 */
export const segmentNames = offersSchema.table('segment_names', {
  segmentId: uuid('segment_id').primaryKey(),
  segmentKey: text('segment_key').notNull(),
  name: text('name').notNull(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** Segments deleted in segmentation: their rows are gone, and a late change of theirs is not applied. */
export const removedSegments = offersSchema.table('removed_segments', {
  segmentId: uuid('segment_id').primaryKey(),
  removedAt: tz('removed_at').notNull().defaultNow(),
});

/**
 * Profiles merged away or erased: a late membership change or update of theirs is not applied.
 * `mergedInto` resolves an old id to the surviving profile; null once erased (nothing but the
 * random id is kept, which identifies no one).
 */
export const goneProfiles = offersSchema.table('gone_profiles', {
  profileId: uuid('profile_id').primaryKey(),
  mergedInto: uuid('merged_into'),
  goneAt: tz('gone_at').notNull().defaultNow(),
});

/** What offers' eligibility reads of a profile's features (profiles.updated), one row per profile. */
export const profileFacts = offersSchema.table('profile_facts', {
  profileId: uuid('profile_id').primaryKey(),
  lifecycleStage: text('lifecycle_stage'),
  topCategory: text('top_category'),
  /** Minor units of profiles' base currency. */
  clv: doublePrecision('clv'),
  /** Average order value, minor units of profiles' base currency (the feature aov): what a percent reward is worth to them. */
  aov: doublePrecision('aov'),
  churnRisk: doublePrecision('churn_risk'),
  pAlive: doublePrecision('p_alive'),
  /** Propensity scores by model name (the features propensity_<name>). */
  propensities: jsonb('propensities').$type<Record<string, number>>().notNull().default({}),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** The identifiers `?userId=` / `?anonymousId=` / `?email=` resolve through to a profile id. */
export const profileIdentifiers = offersSchema.table(
  'profile_identifiers',
  {
    kind: text('kind', { enum: ['user_id', 'anonymous_id', 'email'] }).notNull(),
    value: text('value').notNull(),
    profileId: uuid('profile_id').notNull(),
  },
  (table) => [primaryKey({ columns: [table.kind, table.value] }), index('profile_identifiers_profile_idx').on(table.profileId)],
);

/** One row: the progress of the membership read model (last change applied) and of its last rebuild. */
export const readModelState = offersSchema.table('read_model_state', {
  id: text('id').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull().default(0),
  lastChangeAt: tz('last_change_at'),
  rebuildMark: integer('rebuild_mark').notNull().default(0),
  rebuildStartedAt: tz('rebuild_started_at'),
  rebuildFinishedAt: tz('rebuild_finished_at'),
  rebuildSnapshotSeq: bigint('rebuild_snapshot_seq', { mode: 'number' }),
  rebuildRows: integer('rebuild_rows'),
  rebuildError: text('rebuild_error'),
});

/**
 * One row: grows with every change to the catalog that can change what the personalized offers API
 * serves (any change of an offer but its budget use, and a budget running out or coming back),
 * bumped by a trigger on offers.offers (migration 0006). Each request reads it with the customer's
 * data, so every replica's in-memory catalog reloads at once when it moves.
 */
export const catalogVersion = offersSchema.table('catalog_version', {
  id: integer('id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull(),
});

/**
 * A customer's loyalty account (issue 19), created on first need. `available` and `pending` are the
 * sums of the ledger's deltas, kept in step with it in the same transaction (checked by
 * GET /v1/loyalty/ledger-check); neither goes below zero.
 */
export const loyaltyAccounts = offersSchema.table(
  'loyalty_accounts',
  {
    profileId: uuid('profile_id').primaryKey(),
    available: bigint('available', { mode: 'number' }).notNull().default(0),
    pending: bigint('pending', { mode: 'number' }).notNull().default(0),
    /** Points ever earned (released or pending, less what was clawed back): what tiers will qualify by. */
    lifetimeEarned: bigint('lifetime_earned', { mode: 'number' }).notNull().default(0),
    /** The tier's key (null: none); upgraded at once, downgraded only at `tier_review_at`. */
    tier: text('tier'),
    tierSince: tz('tier_since'),
    tierReviewAt: tz('tier_review_at'),
    /** MM-DD, from the trait a birthday_bonus rule names (kept only while such a rule is active). */
    birthday: text('birthday'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (table) => [
    index('loyalty_accounts_birthday_idx')
      .on(table.birthday)
      .where(sql`${table.birthday} is not null`),
    check('loyalty_accounts_available_nonnegative', sql`${table.available} >= 0`),
    check('loyalty_accounts_pending_nonnegative', sql`${table.pending} >= 0`),
  ],
);

/**
 * The points ledger: append-only, one row per change of a balance, with its cause. `cause` is
 * unique per kind: an order earns once (`order:<id>`), a request spends once (`request:<key>`).
 * Deltas move points between the buckets: an earn adds to pending, a release moves them to
 * available, a redemption or an expiry takes from available.
 */
export const pointsLedger = offersSchema.table(
  'points_ledger',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    profileId: uuid('profile_id').notNull(),
    kind: text('kind', { enum: ['earn', 'release', 'redeem', 'adjust', 'expire', 'clawback'] }).notNull(),
    availableDelta: bigint('available_delta', { mode: 'number' }).notNull(),
    pendingDelta: bigint('pending_delta', { mode: 'number' }).notNull(),
    cause: text('cause').notNull(),
    orderId: text('order_id'),
    /** Why, in words (an adjustment's reason is required) and who (an API key's id). */
    reason: text('reason'),
    actor: text('actor'),
    /** How the points were computed (an earn's rules), for the customer's history. */
    details: jsonb('details').$type<Record<string, unknown>>(),
    at: tz('at').notNull().defaultNow(),
  },
  (table) => [uniqueIndex('points_ledger_cause_idx').on(table.kind, table.cause), index('points_ledger_profile_idx').on(table.profileId, table.id)],
);

/**
 * Where a customer's points came from, lot by lot (an order's earn, a positive adjustment), for the
 * return window, FIFO spending, expiry and clawback. `points` is what the lot holds (less what was
 * clawed back); `remaining` is what is left of it to spend or expire. A lot is spendable once
 * released (its return window passed); spends take from the oldest released lots first.
 */
export const pointLots = offersSchema.table(
  'point_lots',
  {
    entryId: bigint('entry_id', { mode: 'number' }).primaryKey(),
    profileId: uuid('profile_id').notNull(),
    orderId: text('order_id'),
    /** The order's revenue (whole units of its currency, less refunds): what tiers by spend count. */
    orderAmount: doublePrecision('order_amount'),
    orderCurrency: text('order_currency'),
    /** What refunds of the order gave back so far (whole units of its currency). */
    refundedAmount: doublePrecision('refunded_amount').notNull().default(0),
    /** The points the lot was earned with (before clawbacks): a refund claws back its share of these. */
    earned: bigint('earned', { mode: 'number' }).notNull(),
    earnedAt: tz('earned_at').notNull(),
    availableAt: tz('available_at').notNull(),
    /** null: never expires. */
    expiresAt: tz('expires_at'),
    points: bigint('points', { mode: 'number' }).notNull(),
    remaining: bigint('remaining', { mode: 'number' }).notNull(),
    released: boolean('released').notNull().default(false),
    /** loyalty.points_expiring was published for this lot. */
    expiryNoticed: boolean('expiry_noticed').notNull().default(false),
  },
  (table) => [
    index('point_lots_profile_idx').on(table.profileId, table.earnedAt, table.entryId),
    index('point_lots_due_idx')
      .on(table.availableAt)
      .where(sql`not ${table.released}`),
    index('point_lots_expiry_idx')
      .on(table.expiresAt)
      .where(sql`${table.released} and ${table.remaining} > 0`),
    uniqueIndex('point_lots_order_idx')
      .on(table.orderId)
      .where(sql`${table.orderId} is not null`),
    check('point_lots_remaining_within', sql`${table.remaining} >= 0 and ${table.remaining} <= ${table.points}`),
  ],
);

/**
 * A points_multiplier offer redeemed for an order that has not earned yet: when it does, the extra
 * points are credited as the redemption's own entry (`offer:<redemption id>`), so a cancel can take them back.
 */
export const orderMultipliers = offersSchema.table(
  'order_multipliers',
  {
    redemptionId: uuid('redemption_id').primaryKey(),
    orderId: text('order_id').notNull(),
    profileId: uuid('profile_id').notNull(),
    multiplier: doublePrecision('multiplier').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (table) => [index('order_multipliers_order_idx').on(table.orderId)],
);

/** Earn rules (scope admin): the base rate per currency and the multipliers by segment and by product category. */
export const earnRules = offersSchema.table('earn_rules', {
  key: text('key').primaryKey(),
  name: text('name').notNull(),
  rule: jsonb('rule').$type<EarnRuleDefinition>().notNull(),
  active: boolean('active').notNull().default(true),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** One row: the programme's settings (return window, caps). */
export const loyaltyProgram = offersSchema.table('loyalty_program', {
  id: integer('id').primaryKey(),
  returnWindowDays: integer('return_window_days').notNull().default(14),
  capPerOrder: bigint('cap_per_order', { mode: 'number' }),
  capPerDay: bigint('cap_per_day', { mode: 'number' }),
  /** Days after they were earned that points expire (null: never). */
  expireAfterDays: integer('expire_after_days'),
  /** Days before they expire that loyalty.points_expiring is published. */
  expiringNoticeDays: integer('expiring_notice_days').notNull().default(30),
  /** The rolling window tiers qualify in (points earned or spend), in days. */
  tierWindowDays: integer('tier_window_days').notNull().default(365),
  /** Days after a review date a customer who no longer qualifies keeps the tier. */
  tierGraceDays: integer('tier_grace_days').notNull().default(30),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/**
 * Tiers (for example Bronze, Silver, Gold), by rank: a customer holds the highest tier whose
 * threshold they reach in the rolling window, by points earned or by spend in a currency.
 */
export const tiers = offersSchema.table('tiers', {
  key: text('key').primaryKey(),
  name: text('name').notNull(),
  rank: integer('rank').notNull().unique(),
  /** Points earned in the window that qualify (null: not by points). */
  minPoints: bigint('min_points', { mode: 'number' }),
  /** Spend in the window, whole units of spend_currency, that qualifies (null: not by spend). */
  minSpend: doublePrecision('min_spend'),
  spendCurrency: text('spend_currency'),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** Journeys (issue 20): a key, a status, and the version a new entry runs. */
export const journeys = offersSchema.table('journeys', {
  key: text('key').primaryKey(),
  name: text('name').notNull(),
  status: text('status', { enum: ['draft', 'active', 'paused', 'archived'] })
    .notNull()
    .default('draft'),
  /** The version new entries run; customers already in a journey finish on theirs. */
  version: integer('version').notNull().default(1),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** Every version of every journey's definition, kept: an edit makes a new one. */
export const journeyVersions = offersSchema.table(
  'journey_versions',
  {
    journeyKey: text('journey_key').notNull(),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<JourneyDefinition>().notNull(),
    /** The API key that saved it. */
    actor: text('actor').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.journeyKey, table.version] })],
);

/**
 * Where journeys send (issue 20): a webhook URL, signed the Standard Webhooks way with each of its
 * secrets (several during a rotation), or a NATS subject under journeys. (OFFERS keeps it). Its
 * caps bound the messages one customer gets on it over all journeys (null: no cap).
 */
export const journeyChannels = offersSchema.table(
  'journey_channels',
  {
    key: text('key').primaryKey(),
    kind: text('kind', { enum: ['webhook', 'nats'] }).notNull(),
    url: text('url'),
    subject: text('subject'),
    /** whsec_ secrets; every one signs, so a receiver holding any of them verifies. */
    secrets: jsonb('secrets').$type<string[]>().notNull().default([]),
    capPerDay: integer('cap_per_day'),
    capPerWeek: integer('cap_per_week'),
    /** How long a failing delivery is retried before it is given up. */
    retryForSeconds: integer('retry_for_seconds').notNull().default(86_400),
    timeoutMs: integer('timeout_ms').notNull().default(10_000),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (table) => [check('journey_channels_target', sql`(${table.kind} = 'webhook' and ${table.url} is not null) or (${table.kind} = 'nats' and ${table.subject} is not null)`)],
);

/** A customer's last entry into a journey: what its re-entry policy is checked against (one row per journey and customer, locked by the entry). */
export const journeyEntries = offersSchema.table(
  'journey_entries',
  {
    journeyKey: text('journey_key').notNull(),
    profileId: uuid('profile_id').notNull(),
    lastEnteredAt: tz('last_entered_at').notNull(),
    entries: integer('entries').notNull().default(1),
  },
  (table) => [primaryKey({ columns: [table.journeyKey, table.profileId] })],
);

/**
 * One customer's pass through one version of a journey: the step it is at and when that step is due.
 * The executor claims due rows with FOR UPDATE SKIP LOCKED and moves them in the transaction that
 * records the step, so a step runs once per enrollment whatever crashes.
 */
export const journeyEnrollments = offersSchema.table(
  'journey_enrollments',
  {
    id: uuid('id').primaryKey(),
    journeyKey: text('journey_key').notNull(),
    version: integer('version').notNull(),
    profileId: uuid('profile_id').notNull(),
    /** The message that made the customer enter (its envelope id). */
    cause: text('cause').notNull(),
    status: text('status', { enum: ['active', 'completed', 'exited', 'converted'] })
      .notNull()
      .default('active'),
    /** The step to run next (null once ended). */
    stepId: text('step_id'),
    dueAt: tz('due_at'),
    enteredAt: tz('entered_at').notNull().defaultNow(),
    endedAt: tz('ended_at'),
    endReason: text('end_reason'),
    /** Track events done since entering (names, distinct): what did_event branches read. */
    events: jsonb('events').$type<string[]>().notNull().default([]),
    /** Times its step failed on its own (each failure puts it off longer), and the last error. */
    failures: integer('failures').notNull().default(0),
    lastError: text('last_error'),
  },
  (table) => [
    uniqueIndex('journey_enrollments_cause_idx').on(table.journeyKey, table.cause),
    index('journey_enrollments_due_idx')
      .on(table.dueAt)
      .where(sql`status = 'active'`),
    index('journey_enrollments_profile_idx')
      .on(table.profileId)
      .where(sql`status = 'active'`),
    index('journey_enrollments_journey_idx').on(table.journeyKey, table.status),
  ],
);

/** Each step an enrollment ran, once (the primary key): what it did (sent, skipped, waited, branched, split, ended) and why. */
export const journeyStepRuns = offersSchema.table(
  'journey_step_runs',
  {
    enrollmentId: uuid('enrollment_id').notNull(),
    stepId: text('step_id').notNull(),
    journeyKey: text('journey_key').notNull(),
    version: integer('version').notNull(),
    outcome: text('outcome', { enum: ['sent', 'skipped', 'waited', 'branched', 'split'] }).notNull(),
    detail: text('detail'),
    at: tz('at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.enrollmentId, table.stepId] }), index('journey_step_runs_journey_idx').on(table.journeyKey, table.stepId)],
);

/** A send to a channel: pending until delivered, refused or given up; its id is the webhook-id on every attempt. */
export const journeyDeliveries = offersSchema.table(
  'journey_deliveries',
  {
    id: uuid('id').primaryKey(),
    enrollmentId: uuid('enrollment_id').notNull(),
    stepId: text('step_id').notNull(),
    journeyKey: text('journey_key').notNull(),
    version: integer('version').notNull(),
    profileId: uuid('profile_id').notNull(),
    channel: text('channel').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tz('next_attempt_at').notNull().defaultNow(),
    giveUpAt: tz('give_up_at').notNull(),
    lastError: text('last_error'),
    createdAt: tz('created_at').notNull().defaultNow(),
    finishedAt: tz('finished_at'),
  },
  (table) => [
    uniqueIndex('journey_deliveries_step_idx').on(table.enrollmentId, table.stepId),
    index('journey_deliveries_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`status = 'pending'`),
    // Frequency caps count a customer's sends per channel over the last week.
    index('journey_deliveries_cap_idx').on(table.profileId, table.channel, table.createdAt),
    index('journey_deliveries_journey_idx').on(table.journeyKey, table.stepId, table.status),
  ],
);

/** Every attempt of every delivery: when, the receiver's status or the error, how long it took. */
export const journeyDeliveryAttempts = offersSchema.table(
  'journey_delivery_attempts',
  {
    deliveryId: uuid('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    at: tz('at').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
  },
  (table) => [primaryKey({ columns: [table.deliveryId, table.attempt] })],
);

/** A customer's time zone (the identify trait `timezone`), for waits until a time of day and quiet hours. */
export const customerTimeZones = offersSchema.table('customer_time_zones', {
  profileId: uuid('profile_id').primaryKey(),
  timeZone: text('time_zone').notNull(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/**
 * The experiments offers assign in process (experiments.changed, the newest revision of each). A
 * change moves catalog_version (trigger), so every replica reloads them with the catalog.
 */
export const experimentRules = offersSchema.table('experiment_rules', {
  key: text('key').primaryKey(),
  experimentId: uuid('experiment_id').notNull(),
  revision: integer('revision').notNull(),
  status: text('status', { enum: ['draft', 'running', 'stopped'] }).notNull(),
  rules: jsonb('rules').$type<ExperimentChangedV1>().notNull(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** The outbox of OFFERS messages and the inbox of applied envelope ids (ADR 12). */
export const { outbox, inbox, streamLocations, streamErasures } = outboxTables(offersSchema);
