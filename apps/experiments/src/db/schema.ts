import { EXPOSURE_SOURCES } from '@segmenta/contracts';
import { outboxTables } from '@segmenta/messaging';
import { sql } from 'drizzle-orm';
import { bigint, boolean, doublePrecision, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { ExperimentAllocation, ExperimentMetric, ExperimentTargeting, ExperimentVariant } from '../experiments/experiment-definition';

/** Experiments' tables; no other service reads them (ARCHITECTURE §1). */
export const experimentsSchema = pgSchema('experiments');

const tz = (name: string) => timestamp(name, { withTimezone: true });

/**
 * An experiment (issue 21): its definition's parts, status (draft → running → stopped) and the
 * revision experiments.changed carries, so a late message never undoes a newer one.
 */
export const experiments = experimentsSchema.table('experiments', {
  id: uuid('id').primaryKey(),
  key: text('key').notNull().unique(),
  name: text('name').notNull().default(''),
  hypothesis: text('hypothesis'),
  targeting: jsonb('targeting').$type<ExperimentTargeting>().notNull(),
  variants: jsonb('variants').$type<ExperimentVariant[]>().notNull(),
  metrics: jsonb('metrics').$type<ExperimentMetric[]>().notNull(),
  allocation: jsonb('allocation').$type<ExperimentAllocation>().notNull().default({ type: 'fixed' }),
  /** A bandit's current weights per targeted segment (issue 22), and when it last moved them. */
  segmentWeights: jsonb('segment_weights').$type<Record<string, number[]>>(),
  allocatedAt: tz('allocated_at'),
  status: text('status', { enum: ['draft', 'running', 'stopped'] })
    .notNull()
    .default('draft'),
  seed: text('seed').notNull(),
  /** experiment, or the programme's holdout (issue 22): one long-running holdout, managed under /v1/programme. */
  kind: text('kind', { enum: ['experiment', 'holdout'] })
    .notNull()
    .default('experiment'),
  revision: integer('revision').notNull().default(1),
  startedAt: tz('started_at'),
  endedAt: tz('ended_at'),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** A customer's first exposure to an experiment: the variant, when, where from, and the pre-exposure covariate for CUPED. Once per customer. */
export const exposures = experimentsSchema.table(
  'exposures',
  {
    experimentId: uuid('experiment_id').notNull(),
    profileId: uuid('profile_id').notNull(),
    variant: text('variant').notNull(),
    firstExposedAt: tz('first_exposed_at').notNull(),
    source: text('source', { enum: EXPOSURE_SOURCES }).notNull(),
    /** The customer's revenue before exposure (minor units), CUPED's covariate; null when unknown. */
    covariate: doublePrecision('covariate'),
    /** The segments the customer was in at exposure: the breakdowns their values count in. */
    segments: jsonb('segments').$type<string[]>().notNull().default([]),
  },
  (table) => [primaryKey({ columns: [table.experimentId, table.profileId] }), index('exposures_profile_idx').on(table.profileId)],
);

/** Segment memberships (segments.entered / exited) for targeting: `seq` stops an older change from undoing a newer one. */
export const memberships = experimentsSchema.table(
  'memberships',
  {
    segmentKey: text('segment_key').notNull(),
    profileId: uuid('profile_id').notNull(),
    member: boolean('member').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.segmentKey, table.profileId] }),
    uniqueIndex('memberships_profile_idx')
      .on(table.profileId, table.segmentKey)
      .where(sql`member`),
  ],
);

/** A customer's value of each metric of an experiment they are exposed to (a conversion 0/1, revenue net of refunds). */
export const metricValues = experimentsSchema.table(
  'metric_values',
  {
    experimentId: uuid('experiment_id').notNull(),
    profileId: uuid('profile_id').notNull(),
    metricKey: text('metric_key').notNull(),
    value: doublePrecision('value').notNull().default(0),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  // By customer too: events arrive per customer, and merges and erasures find them by customer.
  (table) => [primaryKey({ columns: [table.experimentId, table.profileId, table.metricKey] }), index('metric_values_profile_idx').on(table.profileId)],
);

/**
 * The streaming aggregates results are computed from (never from raw rows): per experiment ×
 * variant × segment ('' = everyone) × metric, the exposed customers n and the sums of their values
 * y, of y², of the covariate x, x² and x·y (CUPED). Moved in the transaction of the exposure or the
 * event they come from.
 */
export const aggregates = experimentsSchema.table(
  'aggregates',
  {
    experimentId: uuid('experiment_id').notNull(),
    variant: text('variant').notNull(),
    segmentKey: text('segment_key').notNull(),
    metricKey: text('metric_key').notNull(),
    n: bigint('n', { mode: 'number' }).notNull().default(0),
    sumY: doublePrecision('sum_y').notNull().default(0),
    sumY2: doublePrecision('sum_y2').notNull().default(0),
    sumX: doublePrecision('sum_x').notNull().default(0),
    sumX2: doublePrecision('sum_x2').notNull().default(0),
    sumXY: doublePrecision('sum_xy').notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.experimentId, table.variant, table.segmentKey, table.metricKey] })],
);

/** Each customer's revenue to date (profiles' feature `revenue`, minor units): the pre-exposure covariate CUPED adjusts with, read at exposure. */
export const profileRevenue = experimentsSchema.table('profile_revenue', {
  profileId: uuid('profile_id').primaryKey(),
  revenue: doublePrecision('revenue').notNull(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** The outbox of EXPERIMENTS messages and the inbox of applied envelope ids (ADR 12). */
export const { outbox, inbox, streamLocations, streamErasures } = outboxTables(experimentsSchema);
