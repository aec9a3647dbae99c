import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm';
import { DATABASE, jsonParam, withTransaction, type Database, type Db } from '@segmenta/persistence';
import * as tables from '../db/schema';

const { customerModels, featureCuts, profileFeatures, profiles, propensityModels } = tables;

export type CustomerModelRecord = typeof customerModels.$inferSelect;
type CutName = 'recency' | 'frequency' | 'monetary';

/**
 * The features' population tables (RFM cut points, fitted customer models, propensity models) and
 * the bulk reads and writes of profile_features that the scheduled runs make. Per-event feature
 * writes are in ProfileStoreRepository.
 */
@Injectable()
export class FeaturesRepository {
  constructor(@Inject(DATABASE) readonly database: Database<typeof tables>) {}

  async countProfiles(): Promise<number> {
    const [row] = await this.database.db.select({ n: count() }).from(profileFeatures);
    return row.n;
  }

  /** Population quintiles of recency (days before `now`), orders and revenue over customers with orders. */
  async rfmQuintiles(now: Date): Promise<{ recency: number[] | null; frequency: number[] | null; monetary: number[] | null; n: number }> {
    const quintiles = (expression: ReturnType<typeof sql>) => sql<number[] | null>`percentile_cont(array[0.2, 0.4, 0.6, 0.8]) within group (order by ${expression})`;
    const [row] = await this.database.db
      .select({
        recency: quintiles(sql`floor(extract(epoch from (${now.toISOString()}::timestamptz - ${profileFeatures.lastOrderAt})) / 86400)`),
        frequency: quintiles(sql`${profileFeatures.orders}`),
        monetary: quintiles(sql`${profileFeatures.revenue}`),
        n: count(),
      })
      .from(profileFeatures)
      .where(gt(profileFeatures.orders, 0));
    return row;
  }

  async saveCuts(entries: Array<{ name: CutName; cuts: [number, number, number, number]; population: number }>): Promise<void> {
    await this.database.db
      .insert(featureCuts)
      .values(entries.map((e) => ({ ...e, computedAt: sql`now()` })))
      .onConflictDoUpdate({ target: featureCuts.name, set: { cuts: sql`excluded.cuts`, population: sql`excluded.population`, computedAt: sql`now()` } });
  }

  loadCuts(): Promise<Array<{ name: string; cuts: [number, number, number, number] }>> {
    return this.database.db.select({ name: featureCuts.name, cuts: featureCuts.cuts }).from(featureCuts);
  }

  /** The next `limit` profile ids after `after`, in id order (the chunks of a bulk pass). */
  async profileIdsAfter(after: string, limit: number): Promise<string[]> {
    const rows = await this.database.db
      .select({ profileId: profileFeatures.profileId })
      .from(profileFeatures)
      .where(gt(profileFeatures.profileId, after))
      .orderBy(asc(profileFeatures.profileId))
      .limit(limit);
    return rows.map((r) => r.profileId);
  }

  /** What the customer models are fitted on: every customer with orders and both order dates. */
  orderHistories(): Promise<Array<{ orders: number; revenue: number; firstOrderAt: Date | null; lastOrderAt: Date | null }>> {
    return this.database.db
      .select({ orders: profileFeatures.orders, revenue: profileFeatures.revenue, firstOrderAt: profileFeatures.firstOrderAt, lastOrderAt: profileFeatures.lastOrderAt })
      .from(profileFeatures)
      .where(and(gt(profileFeatures.orders, 0), isNotNull(profileFeatures.firstOrderAt), isNotNull(profileFeatures.lastOrderAt)));
  }

  customerModels(): Promise<CustomerModelRecord[]> {
    return this.database.db.select().from(customerModels).orderBy(asc(customerModels.name));
  }

  /** The models in force become exactly these. */
  async replaceCustomerModels(models: Array<typeof customerModels.$inferInsert>): Promise<void> {
    await withTransaction(this.database.db, async (tx) => {
      await tx.delete(customerModels);
      if (models.length > 0) await tx.insert(customerModels).values(models);
    });
  }

  /** Every live profile's features with the label trait's value (null without a trait). */
  trainingRows(trait: string | null) {
    return this.database.db
      .select({
        profile_id: profileFeatures.profileId,
        orders: profileFeatures.orders,
        revenue: profileFeatures.revenue,
        aov: profileFeatures.aov,
        recency_days: profileFeatures.recencyDays,
        tenure_days: profileFeatures.tenureDays,
        event_count: profileFeatures.eventCount,
        rfm_r: profileFeatures.rfmR,
        rfm_f: profileFeatures.rfmF,
        rfm_m: profileFeatures.rfmM,
        p_alive: profileFeatures.pAlive,
        expected_orders_90d: profileFeatures.expectedOrders90d,
        clv: profileFeatures.clv,
        lifecycle_stage: profileFeatures.lifecycleStage,
        top_category: profileFeatures.topCategory,
        label: trait !== null ? sql<unknown>`${profiles.traits} -> ${trait}` : sql<unknown>`null`,
      })
      .from(profileFeatures)
      .innerJoin(profiles, eq(profiles.id, profileFeatures.profileId))
      .where(isNull(profiles.mergedInto))
      .orderBy(asc(profileFeatures.profileId));
  }

  async savePropensityModel(model: { name: string; label: Record<string, unknown>; report: Record<string, unknown>; trainedAt: Date }): Promise<void> {
    await this.database.db
      .insert(propensityModels)
      .values(model)
      .onConflictDoUpdate({ target: propensityModels.name, set: { label: sql`excluded.label`, report: sql`excluded.report`, trainedAt: sql`excluded.trained_at` } });
  }

  /** Stores the scores of model `name`; returns the profiles whose score changed. */
  async saveScores(tx: Pick<Db<typeof tables>, 'update'>, name: string, scores: Array<{ profileId: string; score: number }>): Promise<string[]> {
    const rows = await tx
      .update(profileFeatures)
      .set({ propensities: sql`${profileFeatures.propensities} || jsonb_build_object(${name}::text, x.score)`, updatedAt: sql`now()` })
      .from(sql`json_to_recordset(${jsonParam(scores.map((c) => ({ profile_id: c.profileId, score: c.score })))}::json) as x(profile_id uuid, score float8)`)
      .where(and(sql`${profileFeatures.profileId} = x.profile_id`, sql`(${profileFeatures.propensities} -> ${name}::text) is distinct from to_jsonb(x.score)`))
      .returning({ profileId: profileFeatures.profileId });
    return rows.map((r) => r.profileId);
  }

  async propensityReports(): Promise<Array<Record<string, unknown>>> {
    const rows = await this.database.db.select({ report: propensityModels.report }).from(propensityModels).orderBy(asc(propensityModels.name));
    return rows.map((r) => r.report);
  }
}
