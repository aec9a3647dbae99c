import { outboxTables } from '@segmenta/messaging';
import { sql } from 'drizzle-orm';
import { bigint, boolean, doublePrecision, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { ExperimentMetric, ExperimentTargeting, ExperimentVariant } from '../experiments/experiment-definition';

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
  status: text('status', { enum: ['draft', 'running', 'stopped'] })
    .notNull()
    .default('draft'),
  seed: text('seed').notNull(),
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
    source: text('source', { enum: ['api', 'offers', 'journeys'] }).notNull(),
    /** The customer's revenue before exposure (minor units), CUPED's covariate; null when unknown. */
    covariate: doublePrecision('covariate'),
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

/** The outbox of EXPERIMENTS messages and the inbox of applied envelope ids (ADR 12). */
export const { outbox, inbox, streamLocations, streamErasures } = outboxTables(experimentsSchema);
