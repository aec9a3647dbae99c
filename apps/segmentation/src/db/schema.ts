import type { ExperimentMetricLiftV1 } from '@segmenta/contracts';
import { outboxTables } from '@segmenta/messaging';
import { bigserial, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Segmentation's tables; no other service reads them (ARCHITECTURE §1). */
export const segmentationSchema = pgSchema('segmentation');

const tz = (name: string) => timestamp(name, { withTimezone: true });

/** Segment definitions (rule language of ARCHITECTURE §6). */
export const segments = segmentationSchema.table('segments', {
  id: uuid('id').primaryKey(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  kind: text('kind', { enum: ['rule', 'rfm', 'lifecycle', 'cluster', 'predictive'] }).notNull(),
  definition: jsonb('definition').notNull(),
  persona: jsonb('persona'),
  status: text('status', { enum: ['active', 'paused'] })
    .notNull()
    .default('active'),
  /** When the scheduled or a full evaluation last ran over every profile (freshness of time-based rules). */
  evaluatedAt: tz('evaluated_at'),
  version: integer('version').notNull().default(1),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** The read model of profiles' traits and features, fed by profiles.updated (erased profiles are deleted). */
export const profileView = segmentationSchema.table('profile_view', {
  profileId: uuid('profile_id').primaryKey(),
  traits: jsonb('traits').$type<Record<string, unknown>>().notNull().default({}),
  features: jsonb('features').$type<Record<string, unknown>>().notNull().default({}),
  /** How people recognise the customer (user id, e-mail): shown next to member ids, never used by rules. */
  identifiers: jsonb('identifiers').$type<{ userId?: string; email?: string }>().notNull().default({}),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/** Compact behaviour from profiles.activity (event name, properties, time), kept for a retention period. */
export const behaviourFacts = segmentationSchema.table(
  'behaviour_facts',
  {
    eventId: text('event_id').notNull(),
    profileId: uuid('profile_id').notNull(),
    name: text('name').notNull(),
    props: jsonb('props').$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: tz('occurred_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.profileId, table.eventId] }),
    index('behaviour_facts_profile_idx').on(table.profileId, table.occurredAt),
    index('behaviour_facts_name_idx').on(table.name, table.occurredAt),
  ],
);

/** Current members of each segment. */
export const memberships = segmentationSchema.table(
  'memberships',
  {
    segmentId: uuid('segment_id').notNull(),
    profileId: uuid('profile_id').notNull(),
    since: tz('since').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.segmentId, table.profileId] }), index('memberships_profile_idx').on(table.profileId)],
);

/** Every entered/exited change, numbered: consumers catch up exactly with ?after=<seq>. */
export const membershipChanges = segmentationSchema.table(
  'membership_changes',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    segmentId: uuid('segment_id').notNull(),
    profileId: uuid('profile_id').notNull(),
    change: text('change', { enum: ['entered', 'exited'] }).notNull(),
    segmentVersion: integer('segment_version').notNull(),
    at: tz('at').notNull().defaultNow(),
  },
  (table) => [index('membership_changes_segment_idx').on(table.segmentId, table.seq), index('membership_changes_profile_idx').on(table.profileId)],
);

/**
 * Which offers, journeys and experiments target which segments, as their services announce it
 * (SegmentReferencesV1): deleting a segment still referenced is refused. One row per owner; an
 * owner that no longer targets anything keeps its row with no keys, so its revision still counts.
 */
export const segmentReferences = segmentationSchema.table(
  'segment_references',
  {
    service: text('service').notNull(),
    ownerKind: text('owner_kind').notNull(),
    ownerId: text('owner_id').notNull(),
    ownerName: text('owner_name').notNull(),
    segmentKeys: text('segment_keys').array().notNull(),
    revision: integer('revision').notNull(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.service, table.ownerKind, table.ownerId] }), index('segment_references_keys_idx').using('gin', table.segmentKeys)],
);

/** Built-in segments created once: one an admin deletes stays deleted across restarts. */
export const builtinSegmentsSeeded = segmentationSchema.table('builtin_segments_seeded', {
  key: text('key').primaryKey(),
  seededAt: tz('seeded_at').notNull().defaultNow(),
});

/** KPI snapshots per segment (size, shares, growth, rates, stability), on a schedule and on demand. */
export const kpiSnapshots = segmentationSchema.table(
  'kpi_snapshots',
  {
    segmentId: uuid('segment_id').notNull(),
    at: tz('at').notNull(),
    metrics: jsonb('metrics').$type<Record<string, number | null>>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.segmentId, table.at] })],
);

/**
 * Each segment's lift per experiment, the newest experiments.results of each (issue 22); segment
 * key '' holds everyone. A stopped experiment's rows stay, marked stopped: stopping is final, so a
 * late message about it changes nothing.
 */
export const experimentLift = segmentationSchema.table(
  'experiment_lift',
  {
    segmentKey: text('segment_key').notNull(),
    experimentId: uuid('experiment_id').notNull(),
    experimentKey: text('experiment_key').notNull(),
    kind: text('kind', { enum: ['experiment', 'holdout'] }).notNull(),
    status: text('status', { enum: ['running', 'stopped'] }).notNull(),
    /** When experiments computed these results (or stopped the experiment). */
    at: tz('at').notNull(),
    metrics: jsonb('metrics').$type<ExperimentMetricLiftV1[]>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.experimentId, table.segmentKey] }), index('experiment_lift_segment_idx').on(table.segmentKey)],
);

/** The outbox of SEGMENTS messages and the inbox of applied envelope ids (ADR 12). */
export const { outbox, inbox, streamLocations, streamErasures } = outboxTables(segmentationSchema);
