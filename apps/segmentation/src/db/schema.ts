import { integer, jsonb, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Segmentation's tables; no other service reads them (ARCHITECTURE §1). */
export const segmentationSchema = pgSchema('segmentation');

/** Segment definitions (rule language of ARCHITECTURE §6); membership tables come with the engine. */
export const segments = segmentationSchema.table('segments', {
  id: uuid('id').primaryKey(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  kind: text('kind', { enum: ['rule', 'rfm', 'cluster', 'predictive'] }).notNull(),
  definition: jsonb('definition').notNull(),
  persona: jsonb('persona'),
  status: text('status', { enum: ['active', 'paused', 'archived'] }).notNull().default('active'),
  version: integer('version').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
