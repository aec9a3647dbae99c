import { boolean, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Ingestion's tables; no other service reads them (ARCHITECTURE §1). */
export const ingestionSchema = pgSchema('ingestion');

/** A source (website, app, backend) and its write key, stored hashed. */
export const sources = ingestionSchema.table('sources', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  writeKeyHash: text('write_key_hash').notNull().unique(),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
