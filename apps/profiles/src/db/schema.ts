import { index, jsonb, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Profiles' tables; no other service reads them (ARCHITECTURE §1). */
export const profilesSchema = pgSchema('profiles');

/**
 * The event log: every Segment call (identify, track, page, screen, group, alias). `id` is the
 * messageId, so a redelivered or resent event is stored once. `name` is the track event or the
 * page/screen name. `profile_id` is filled by identity resolution; partitioning by month comes with it.
 */
export const events = profilesSchema.table(
  'events',
  {
    id: text('id').primaryKey(),
    profileId: uuid('profile_id'),
    type: text('type').notNull(),
    name: text('name'),
    userId: text('user_id'),
    anonymousId: text('anonymous_id'),
    sourceId: text('source_id'),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull(),
    traits: jsonb('traits').$type<Record<string, unknown>>().notNull().default({}),
    context: jsonb('context').$type<Record<string, unknown>>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    storedAt: timestamp('stored_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('events_user_id_idx').on(table.userId), index('events_anonymous_id_idx').on(table.anonymousId)],
);
