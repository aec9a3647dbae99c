import { integer, jsonb, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Offers' tables; no other service reads them (ARCHITECTURE §1). */
export const offersSchema = pgSchema('offers');

/** The offer catalog. Money is integer minor units; budgets count redemptions. */
export const offers = offersSchema.table('offers', {
  id: uuid('id').primaryKey(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  reward: jsonb('reward').notNull(),
  eligibility: jsonb('eligibility').notNull(),
  placements: text('placements').array().notNull(),
  priority: integer('priority').notNull().default(0),
  startsAt: timestamp('starts_at', { withTimezone: true }),
  endsAt: timestamp('ends_at', { withTimezone: true }),
  budgetTotal: integer('budget_total'),
  budgetUsed: integer('budget_used').notNull().default(0),
  perCustomerLimit: integer('per_customer_limit'),
  status: text('status', { enum: ['draft', 'active', 'paused', 'ended'] })
    .notNull()
    .default('draft'),
});
