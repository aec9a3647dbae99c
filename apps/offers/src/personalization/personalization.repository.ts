import { Inject, Injectable } from '@nestjs/common';
import { and, arrayContains, asc, desc, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import { DATABASE, anyOf, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';
import type { OfferRow, OffersTx } from '../catalog/offers.repository';

/** The SQL of the personalized offers API: what can be served now, a customer's uses, and code reservations. */
@Injectable()
export class PersonalizationRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  transaction<T>(work: (tx: OffersTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  /** Offers that can be served at `now`: active, inside their window, with budget left; of one placement when given. */
  servable(now: Date, placement?: string): Promise<OfferRow[]> {
    const o = tables.offers;
    return this.database.db
      .select()
      .from(o)
      .where(
        and(
          eq(o.status, 'active'),
          lte(o.startsAt, now),
          or(isNull(o.endsAt), gt(o.endsAt, now)),
          or(eq(o.budgetKind, 'none'), sql`${o.budgetUsed} < ${o.budgetTotal}`),
          placement !== undefined ? arrayContains(o.placements, [placement]) : undefined,
        ),
      )
      .orderBy(desc(o.priority), asc(o.key));
  }

  /** The customer's non-cancelled redemptions of these offers since `since`, by offer id. */
  async redemptionTimes(profileId: string, offerIds: string[], since: Date | null): Promise<Map<string, Date[]>> {
    const times = new Map<string, Date[]>();
    if (offerIds.length === 0) return times;
    const rows = await queryRows<{ offer_id: string; redeemed_at: string | Date }>(
      this.database.db,
      sql`select offer_id, redeemed_at from offers.redemptions
        where profile_id = ${profileId}::uuid and status = 'redeemed' and offer_id = ${anyOf(offerIds, 'uuid')}
        ${since ? sql`and redeemed_at >= ${since.toISOString()}::timestamptz` : sql``}`,
    );
    for (const row of rows) times.set(row.offer_id, [...(times.get(row.offer_id) ?? []), new Date(row.redeemed_at)]);
    return times;
  }

  /** The code of the offer's pool reserved for this customer, if any. */
  async reservedCode(tx: OffersTx, offerId: string, profileId: string): Promise<string | undefined> {
    const c = tables.couponCodes;
    const rows = await tx
      .select({ code: c.code })
      .from(c)
      .where(and(eq(c.offerId, offerId), eq(c.reservedFor, profileId), eq(c.status, 'reserved')))
      .limit(1);
    return rows[0]?.code;
  }

  /** Serialises reservations of one offer's codes for one customer until the transaction ends. */
  async lockReservation(tx: OffersTx, offerId: string, profileId: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`reserve:${offerId}:${profileId}`}, 20))`);
  }

  /**
   * Reserves one available code for the customer in one conditional UPDATE; codes locked by another
   * customer's reservation are skipped, not waited for. undefined: the pool has no code left.
   */
  async reserveCode(tx: OffersTx, offerId: string, profileId: string): Promise<string | undefined> {
    const rows = await queryRows<{ code: string }>(
      tx,
      sql`update offers.coupon_codes set status = 'reserved', reserved_for = ${profileId}::uuid
        where offer_id = ${offerId}::uuid and code = (
          select code from offers.coupon_codes where offer_id = ${offerId}::uuid and status = 'available' order by code limit 1 for update skip locked)
        and status = 'available'
        returning code`,
    );
    return rows[0]?.code;
  }
}
