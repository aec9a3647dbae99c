import { jsonb, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Experiments' tables; no other service reads them (ARCHITECTURE §1). */
export const experimentsSchema = pgSchema('experiments');

export const experiments = experimentsSchema.table('experiments', {
  id: uuid('id').primaryKey(),
  key: text('key').notNull().unique(),
  hypothesis: text('hypothesis'),
  targeting: jsonb('targeting').notNull(),
  variants: jsonb('variants').notNull(),
  metrics: jsonb('metrics').notNull(),
  status: text('status', { enum: ['draft', 'running', 'stopped'] })
    .notNull()
    .default('draft'),
  seed: text('seed').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }),
  endedAt: timestamp('ended_at', { withTimezone: true }),
});
