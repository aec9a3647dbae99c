import { Inject, Injectable } from '@nestjs/common';
import { and, arrayContains, asc, count, desc, eq, gt, lt, sql } from 'drizzle-orm';
import { DATABASE, anyOf, jsonParam, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';

export type OfferRow = typeof tables.offers.$inferSelect;
export type NewOfferRow = typeof tables.offers.$inferInsert;
export type OfferChangeRow = typeof tables.offerChanges.$inferSelect;
export type CouponCodeRow = typeof tables.couponCodes.$inferSelect;
type Db = Database<typeof tables>['db'];
/** A transaction of offers' database: a change, its audit entry and its outbox message commit together. */
export type OffersTx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Runner = Db | OffersTx;

/** Codes inserted per statement: one JSON parameter each, well within a statement's limits. */
const CODE_CHUNK = 20_000;

/** The catalog's SQL: offers, their audit trail and their coupon pools. */
@Injectable()
export class OffersRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /** Runs `work` in one transaction (retried on serialization failures). */
  transaction<T>(work: (tx: OffersTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  async byKey(key: string, runner: Runner = this.database.db): Promise<OfferRow | undefined> {
    const rows = await runner.select().from(tables.offers).where(eq(tables.offers.key, key)).limit(1);
    return rows[0];
  }

  /** The offer, locked until the transaction ends: changes to one offer (and its pool) queue up. */
  async lockByKey(key: string, tx: OffersTx): Promise<OfferRow | undefined> {
    const rows = await tx.select().from(tables.offers).where(eq(tables.offers.key, key)).for('update').limit(1);
    return rows[0];
  }

  /** undefined when the key is taken. */
  async insert(row: NewOfferRow, tx: OffersTx): Promise<OfferRow | undefined> {
    const rows = await tx.insert(tables.offers).values(row).onConflictDoNothing({ target: tables.offers.key }).returning();
    return rows[0];
  }

  /** Saves `changes` and raises the revision by one. */
  async update(id: string, changes: Partial<NewOfferRow>, tx: OffersTx): Promise<OfferRow> {
    const rows = await tx
      .update(tables.offers)
      .set({ ...changes, revision: sql`${tables.offers.revision} + 1`, updatedAt: new Date() })
      .where(eq(tables.offers.id, id))
      .returning();
    return rows[0];
  }

  /** Offers time may move at `now`: scheduled ones whose start has come, and unended ones whose end has passed. */
  async dueForSchedule(now: Date): Promise<Array<Pick<OfferRow, 'key' | 'status' | 'startsAt' | 'endsAt'>>> {
    const iso = now.toISOString();
    return this.database.db
      .select({ key: tables.offers.key, status: tables.offers.status, startsAt: tables.offers.startsAt, endsAt: tables.offers.endsAt })
      .from(tables.offers)
      .where(
        sql`(${tables.offers.status} = 'scheduled' and ${tables.offers.startsAt} <= ${iso}::timestamptz)
          or (${tables.offers.status} in ('scheduled', 'active', 'paused') and ${tables.offers.endsAt} <= ${iso}::timestamptz)`,
      );
  }

  /** Deletes the offer and its coupon pool; its audit trail stays. */
  async delete(id: string, tx: OffersTx): Promise<void> {
    await tx.delete(tables.couponCodes).where(eq(tables.couponCodes.offerId, id));
    await tx.delete(tables.offers).where(eq(tables.offers.id, id));
  }

  /** Offers in key order after `afterKey`, filtered by status and placement. */
  list(filter: { status?: OfferRow['status']; placement?: string; afterKey?: string; limit: number }): Promise<OfferRow[]> {
    const o = tables.offers;
    const conditions = [
      filter.status ? eq(o.status, filter.status) : undefined,
      filter.placement ? arrayContains(o.placements, [filter.placement]) : undefined,
      filter.afterKey !== undefined ? gt(o.key, filter.afterKey) : undefined,
    ].filter((c) => c !== undefined);
    return this.database.db
      .select()
      .from(o)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(asc(o.key))
      .limit(filter.limit);
  }

  async recordChange(change: typeof tables.offerChanges.$inferInsert, tx: OffersTx): Promise<void> {
    await tx.insert(tables.offerChanges).values(change);
  }

  /** An offer's audit entries, newest first, before `beforeSeq`. */
  changes(offerId: string, beforeSeq: number | undefined, limit: number): Promise<OfferChangeRow[]> {
    const c = tables.offerChanges;
    return this.database.db
      .select()
      .from(c)
      .where(and(eq(c.offerId, offerId), beforeSeq !== undefined ? lt(c.seq, beforeSeq) : undefined))
      .orderBy(desc(c.seq))
      .limit(limit);
  }

  async codeCounts(offerId: string, runner: Runner = this.database.db): Promise<Record<CouponCodeRow['status'], number>> {
    const c = tables.couponCodes;
    const rows = await runner.select({ status: c.status, n: count() }).from(c).where(eq(c.offerId, offerId)).groupBy(c.status);
    const counts = { available: 0, reserved: 0, redeemed: 0 };
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  /** Codes in code order after `afterCode`. */
  codes(offerId: string, afterCode: string | undefined, limit: number): Promise<Array<Pick<CouponCodeRow, 'code' | 'status' | 'source' | 'createdAt'>>> {
    const c = tables.couponCodes;
    return this.database.db
      .select({ code: c.code, status: c.status, source: c.source, createdAt: c.createdAt })
      .from(c)
      .where(and(eq(c.offerId, offerId), afterCode !== undefined ? gt(c.code, afterCode) : undefined))
      .orderBy(asc(c.code))
      .limit(limit);
  }

  /** Which of `codes` the offer's pool holds already. */
  async existingCodes(offerId: string, codes: readonly string[], tx: OffersTx): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < codes.length; i += CODE_CHUNK) {
      const rows = await tx
        .select({ code: tables.couponCodes.code })
        .from(tables.couponCodes)
        .where(and(eq(tables.couponCodes.offerId, offerId), sql`${tables.couponCodes.code} = ${anyOf(codes.slice(i, i + CODE_CHUNK), 'text')}`));
      for (const row of rows) found.add(row.code);
    }
    return found;
  }

  /** How many codes a request (its batch) added before: a retried request finds its own. */
  async batchSize(offerId: string, batch: string, tx: OffersTx): Promise<number> {
    const c = tables.couponCodes;
    const [row] = await tx
      .select({ n: count() })
      .from(c)
      .where(and(eq(c.offerId, offerId), eq(c.batch, batch)));
    return row.n;
  }

  /**
   * Inserts codes, skipping those the pool holds already (the primary key decides, so two
   * concurrent inserts never both store one); returns the codes that were new.
   */
  async insertCodes(offerId: string, codes: readonly string[], batch: string, source: CouponCodeRow['source'], tx: OffersTx): Promise<string[]> {
    const inserted: string[] = [];
    for (let i = 0; i < codes.length; i += CODE_CHUNK) {
      const rows = await queryRows<{ code: string }>(
        tx,
        sql`insert into ${tables.couponCodes} (offer_id, code, batch, source)
          select ${offerId}::uuid, code, ${batch}, ${source} from json_array_elements_text(${jsonParam(codes.slice(i, i + CODE_CHUNK))}::json) as code
          on conflict (offer_id, code) do nothing
          returning code`,
      );
      inserted.push(...rows.map((r) => r.code));
    }
    return inserted;
  }
}
