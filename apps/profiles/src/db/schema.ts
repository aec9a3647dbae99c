import { sql } from 'drizzle-orm';
import { outboxTables } from '@segmenta/messaging';
import { bigint, bigserial, boolean, doublePrecision, index, integer, jsonb, pgSchema, primaryKey, real, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Profiles' tables; no other service reads them (ARCHITECTURE §1). */
export const profilesSchema = pgSchema('profiles');

const tz = (name: string) => timestamp(name, { withTimezone: true });

/**
 * One row per customer. A merged profile keeps its row with `merged_into` set (look-ups by its id
 * follow it); an erased one keeps only its id and `erased_at`. `trait_times` holds, per trait, the
 * time of the call that set it: traits merge last-write-wins by that time, not by arrival order.
 */
export const profiles = profilesSchema.table(
  'profiles',
  {
    id: uuid('id').primaryKey(),
    traits: jsonb('traits').$type<Record<string, unknown>>().notNull().default({}),
    traitTimes: jsonb('trait_times').$type<Record<string, string>>().notNull().default({}),
    mergeCount: integer('merge_count').notNull().default(0),
    mergedInto: uuid('merged_into'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    erasedAt: tz('erased_at'),
  },
  (table) => [
    index('profiles_merged_into_idx')
      .on(table.mergedInto)
      .where(sql`merged_into is not null`),
  ],
);

/** The identity graph: each identifier value belongs to exactly one live profile. */
export const identities = profilesSchema.table(
  'identities',
  {
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    profileId: uuid('profile_id').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.kind, table.value] }), index('identities_profile_id_idx').on(table.profileId)],
);

/** Merge history an admin can read: merges done and merges refused by a guard, with why. */
export const merges = profilesSchema.table(
  'merges',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    fromProfileId: uuid('from_profile_id').notNull(),
    intoProfileId: uuid('into_profile_id').notNull(),
    status: text('status').$type<'merged' | 'refused'>().notNull(),
    /** The call that linked them (identify, alias, track, …). */
    reason: text('reason').notNull(),
    /** `kind:value` of the identifier both were found through. */
    identifier: text('identifier').notNull(),
    eventId: text('event_id'),
    /** For a refusal: the guard that stopped it. */
    detail: text('detail'),
    at: tz('at').notNull().defaultNow(),
  },
  (table) => [index('merges_from_idx').on(table.fromProfileId), index('merges_into_idx').on(table.intoProfileId)],
);

/** Identifier values that never link profiles (shared device ids, test emails). */
export const identityBlocklist = profilesSchema.table(
  'identity_blocklist',
  {
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    reason: text('reason'),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.kind, table.value] })],
);

/**
 * Computed features (ARCHITECTURE §4, §6). Money in minor units of `currency` (the configured base
 * currency); orders in other currencies without a configured rate are summed per currency in
 * `revenue_other`. The BTYD columns stay null until the CLV models (a later issue) fill them.
 */
export const profileFeatures = profilesSchema.table('profile_features', {
  profileId: uuid('profile_id').primaryKey(),
  firstSeen: tz('first_seen'),
  lastSeen: tz('last_seen'),
  eventCount: integer('event_count').notNull().default(0),
  orders: integer('orders').notNull().default(0),
  revenue: bigint('revenue', { mode: 'number' }).notNull().default(0),
  currency: text('currency').notNull(),
  revenueOther: jsonb('revenue_other').$type<Record<string, number>>().notNull().default({}),
  firstOrderAt: tz('first_order_at'),
  lastOrderAt: tz('last_order_at'),
  aov: bigint('aov', { mode: 'number' }),
  recencyDays: integer('recency_days'),
  tenureDays: integer('tenure_days'),
  rfmR: smallint('rfm_r'),
  rfmF: smallint('rfm_f'),
  rfmM: smallint('rfm_m'),
  pAlive: real('p_alive'),
  expectedOrders90d: real('expected_orders_90d'),
  clv: bigint('clv', { mode: 'number' }),
  churnRisk: real('churn_risk'),
  lifecycleStage: text('lifecycle_stage').notNull(),
  categoryScores: jsonb('category_scores').$type<{ ref: string; scores: Record<string, number> }>().notNull(),
  categoryAffinity: jsonb('category_affinity').$type<Record<string, number>>().notNull().default({}),
  topCategory: text('top_category'),
  topCategoryShare: real('top_category_share'),
  /** Every order by id with its refunds and cancellation (FeatureAccumulator.orderLedger): orders, revenue and order dates follow from it. */
  orderLedger: jsonb('order_ledger').$type<Record<string, unknown>>().notNull().default({}),
  /** Propensity scores by model name (published as `propensity_<name>` features); written by training runs only. */
  propensities: jsonb('propensities').$type<Record<string, number>>().notNull().default({}),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** Propensity models: what they predict, how well (held-out AUC, Brier score, calibration) and their weights. */
export const propensityModels = profilesSchema.table('propensity_models', {
  name: text('name').primaryKey(),
  label: jsonb('label').$type<Record<string, unknown>>().notNull(),
  report: jsonb('report').$type<Record<string, unknown>>().notNull(),
  trainedAt: tz('trained_at').notNull().defaultNow(),
});

/** Population cut points (RFM quintiles) from the last scheduled run, used to score in between. */
export const featureCuts = profilesSchema.table('feature_cuts', {
  name: text('name').primaryKey(),
  cuts: jsonb('cuts').$type<[number, number, number, number]>().notNull(),
  population: integer('population').notNull(),
  computedAt: tz('computed_at').notNull().defaultNow(),
});

/** The customer-base models in force (BG/NBD, Gamma-Gamma): refitted on a schedule, kept with their fit's report. */
export const customerModels = profilesSchema.table('customer_models', {
  name: text('name', { enum: ['bgnbd', 'gamma_gamma'] }).primaryKey(),
  params: jsonb('params').$type<Record<string, number>>().notNull(),
  logLikelihood: doublePrecision('log_likelihood').notNull(),
  customers: integer('customers').notNull(),
  iterations: integer('iterations').notNull(),
  converged: boolean('converged').notNull(),
  fittedAt: tz('fitted_at').notNull().defaultNow(),
});

/** The outbox of PROFILES messages and the inbox of applied envelopes (ADR 12). */
export const { outbox, inbox, streamLocations, streamErasures } = outboxTables(profilesSchema);

/**
 * The event log: every Segment call (identify, track, page, screen, group, alias). `id` is the
 * messageId, unique within its source (ADR 15), so a redelivered or resent event is stored once and
 * another source's event with the same messageId is stored too. `name` is the track event or the
 * page/screen name. `profile_id` is the profile identity resolution attached it to (null when
 * every identifier of the call is on the block list).
 */
export const events = profilesSchema.table(
  'events',
  {
    id: text('id').notNull(),
    /** Sequence of the message in the EVENTS stream: erasure deletes it there too (ADR 14). */
    streamSeq: bigint('stream_seq', { mode: 'number' }),
    profileId: uuid('profile_id'),
    type: text('type').notNull(),
    name: text('name'),
    userId: text('user_id'),
    anonymousId: text('anonymous_id'),
    sourceId: text('source_id').notNull(),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull(),
    traits: jsonb('traits').$type<Record<string, unknown>>().notNull().default({}),
    context: jsonb('context').$type<Record<string, unknown>>().notNull(),
    occurredAt: tz('occurred_at').notNull(),
    receivedAt: tz('received_at').notNull(),
    storedAt: tz('stored_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.sourceId, table.id] }),
    // GET /v1/events/:messageId looks events up by messageId alone.
    index('events_id_idx').on(table.id),
    index('events_user_id_idx').on(table.userId),
    index('events_anonymous_id_idx').on(table.anonymousId),
    index('events_profile_time_idx').on(table.profileId, table.occurredAt.desc(), table.id.desc()),
  ],
);
