import { index, jsonb, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Profiles' tables; no other service reads them (ARCHITECTURE §1). */
export const profilesSchema = pgSchema('profiles');

/**
 * The event log. `id` is the Segment messageId, so a redelivered or resent event is stored once.
 * `profile_id` is filled by identity resolution (next issue); partitioning by month comes with it.
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
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull(),
    context: jsonb('context').$type<Record<string, unknown>>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    storedAt: timestamp('stored_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('events_user_id_idx').on(table.userId), index('events_anonymous_id_idx').on(table.anonymousId)],
);
