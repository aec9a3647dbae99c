import { Inject, Injectable } from '@nestjs/common';
import { and, count, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { DATABASE, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';
import type { OfferRow, OffersTx } from '../catalog/offers.repository';

export type RedemptionRow = typeof tables.redemptions.$inferSelect;
export type NewRedemptionRow = typeof tables.redemptions.$inferInsert;
export type RedemptionRequestRow = typeof tables.redemptionRequests.$inferSelect;

/** The SQL of redemptions: idempotency records, the race-free checks (ADR 20) and the listings. */
@Injectable()
export class RedemptionsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /** Runs `work` in one transaction (retried on serialization failures and deadlocks). */
  transaction<T>(work: (tx: OffersTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  /**
   * Claims an idempotency key for this transaction (with its answer when that is known already);
   * false when it was answered before. A concurrent claim of the same key waits on the primary key
   * until the first transaction ends.
   */
  async claimRequest(tx: OffersTx, idempotencyKey: string, fingerprint: string, answer: { statusCode: number; response: Record<string, unknown> } = { statusCode: 0, response: {} }): Promise<boolean> {
    const rows = await tx
      .insert(tables.redemptionRequests)
      .values({ idempotencyKey, fingerprint, ...answer })
      .onConflictDoNothing({ target: tables.redemptionRequests.idempotencyKey })
      .returning({ key: tables.redemptionRequests.idempotencyKey });
    return rows.length === 1;
  }

  async request(tx: OffersTx, idempotencyKey: string): Promise<RedemptionRequestRow | undefined> {
    const rows = await tx.select().from(tables.redemptionRequests).where(eq(tables.redemptionRequests.idempotencyKey, idempotencyKey)).limit(1);
    return rows[0];
  }

  async settleRequest(tx: OffersTx, idempotencyKey: string, answer: { statusCode: number; response: Record<string, unknown>; redemptionId: string | null }): Promise<void> {
    await tx.update(tables.redemptionRequests).set(answer).where(eq(tables.redemptionRequests.idempotencyKey, idempotencyKey));
  }

  async offerByKey(tx: OffersTx, key: string): Promise<OfferRow | undefined> {
    const rows = await tx.select().from(tables.offers).where(eq(tables.offers.key, key)).limit(1);
    return rows[0];
  }

  /**
   * Serialises one customer's redemptions of one offer until the transaction ends (a transaction
   * advisory lock on a hash of both ids), so the count of their uses cannot be read by two at once.
   */
  async lockCustomer(tx: OffersTx, offerId: string, profileId: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${offerId}:${profileId}`}, 20))`);
  }

  /** The customer's redemptions of the offer that still count (not cancelled), since `since` (null: ever). */
  async countUses(tx: OffersTx, offerId: string, profileId: string, since: Date | null): Promise<number> {
    const r = tables.redemptions;
    const [row] = await tx
      .select({ n: count() })
      .from(r)
      .where(and(eq(r.offerId, offerId), eq(r.profileId, profileId), eq(r.status, 'redeemed'), since ? gte(r.redeemedAt, since) : undefined));
    return row.n;
  }

  /**
   * Marks a unique code redeemed if it is available or reserved for this customer, in one
   * conditional statement: of concurrent attempts one updates the row, the others wait for its lock,
   * re-read the row and find it redeemed. Returns whether this transaction took it.
   */
  async redeemCode(tx: OffersTx, offerId: string, code: string, profileId: string): Promise<boolean> {
    const c = tables.couponCodes;
    const rows = await tx
      .update(c)
      .set({ status: 'redeemed', reservedFor: profileId })
      .where(and(eq(c.offerId, offerId), eq(c.code, code), sql`(${c.status} = 'available' or (${c.status} = 'reserved' and ${c.reservedFor} = ${profileId}))`))
      .returning({ code: c.code });
    return rows.length === 1;
  }

  async codeState(tx: OffersTx, offerId: string, code: string): Promise<{ status: string; reservedFor: string | null } | undefined> {
    const c = tables.couponCodes;
    const rows = await tx
      .select({ status: c.status, reservedFor: c.reservedFor })
      .from(c)
      .where(and(eq(c.offerId, offerId), eq(c.code, code)))
      .limit(1);
    return rows[0];
  }

  /**
   * The redemption's row and its 201 answer, in one statement. Inserting the row arms the
   * commit-time budget take (migration 0008): its refusal fails the COMMIT with SQLSTATE SB001.
   */
  async recordRedemption(tx: OffersTx, row: Required<Omit<NewRedemptionRow, 'seq' | 'status' | 'cancelledAt'>>, answer: Record<string, unknown>): Promise<void> {
    await tx.execute(
      sql`with redemption as (
          insert into ${tables.redemptions} (id, idempotency_key, offer_id, offer_key, profile_id, code, order_id, order_amount, order_currency, reward_type, reward_value, reward_currency, budget_kind, budget_units, redeemed_at)
          values (${row.id}, ${row.idempotencyKey}, ${row.offerId}, ${row.offerKey}, ${row.profileId}, ${row.code}, ${row.orderId}, ${row.orderAmount}, ${row.orderCurrency}, ${row.rewardType},
            ${row.rewardValue}, ${row.rewardCurrency}, ${row.budgetKind}, ${row.budgetUnits}, ${row.redeemedAt.toISOString()}::timestamptz)
          returning id
        )
        update ${tables.redemptionRequests} set status_code = 201, response = ${JSON.stringify(answer)}::jsonb, redemption_id = (select id from redemption)
        where idempotency_key = ${row.idempotencyKey}`,
    );
  }

  /** Gives `units` back to the budget, if it is still of the kind they were taken from. */
  async giveBackBudget(tx: OffersTx, offerId: string, kind: RedemptionRow['budgetKind'], units: number): Promise<void> {
    if (kind === 'none' || units === 0) return;
    const o = tables.offers;
    await tx
      .update(o)
      .set({ budgetUsed: sql`greatest(${o.budgetUsed} - ${units}, 0)` })
      .where(and(eq(o.id, offerId), eq(o.budgetKind, kind)));
  }

  async byId(id: string): Promise<RedemptionRow | undefined> {
    const rows = await this.database.db.select().from(tables.redemptions).where(eq(tables.redemptions.id, id)).limit(1);
    return rows[0];
  }

  async lockById(tx: OffersTx, id: string): Promise<RedemptionRow | undefined> {
    const rows = await tx.select().from(tables.redemptions).where(eq(tables.redemptions.id, id)).for('update').limit(1);
    return rows[0];
  }

  async markCancelled(tx: OffersTx, id: string, at: Date): Promise<RedemptionRow> {
    const rows = await tx.update(tables.redemptions).set({ status: 'cancelled', cancelledAt: at }).where(eq(tables.redemptions.id, id)).returning();
    return rows[0];
  }

  /** An offer's redemptions, newest first, before `beforeSeq`. */
  list(offerId: string, filter: { status?: RedemptionRow['status']; beforeSeq?: number; limit: number }): Promise<RedemptionRow[]> {
    const r = tables.redemptions;
    return this.database.db
      .select()
      .from(r)
      .where(and(eq(r.offerId, offerId), filter.status ? eq(r.status, filter.status) : undefined, filter.beforeSeq !== undefined ? lt(r.seq, filter.beforeSeq) : undefined))
      .orderBy(desc(r.seq))
      .limit(filter.limit);
  }

  async offerKeyExists(key: string): Promise<OfferRow | undefined> {
    const rows = await this.database.db.select().from(tables.offers).where(eq(tables.offers.key, key)).limit(1);
    return rows[0];
  }
}
