import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import { DATABASE, anyOf, jsonParam, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import type { PointsEntryKind } from '@segmenta/contracts';
import type { OffersTx } from '../catalog/offers.repository';
import * as tables from '../db/schema';
import type { EarnRuleDefinition } from './earning';
import type { Qualification } from './tiers';

export type PointsEntryRow = typeof tables.pointsLedger.$inferSelect;
export type EarnRuleRow = typeof tables.earnRules.$inferSelect;
export type LoyaltyProgramRow = typeof tables.loyaltyProgram.$inferSelect;
export type PointLotRow = typeof tables.pointLots.$inferSelect;
export type TierRow = typeof tables.tiers.$inferSelect;
export type NewPointLot = Omit<typeof tables.pointLots.$inferInsert, 'remaining' | 'earned' | 'refundedAmount' | 'expiryNoticed'> & { points: number };

/** A ledger entry to append. */
export interface NewPointsEntry {
  profileId: string;
  kind: PointsEntryKind;
  availableDelta: number;
  pendingDelta: number;
  cause: string;
  orderId?: string | null;
  reason?: string | null;
  actor?: string | null;
  details?: Record<string, unknown> | null;
  /** How the points ever earned move (default: an earn's points; a clawback gives its own). */
  lifetimeDelta?: number;
}

/** The entry as appended, with the account's balances after it. */
export interface AppendedEntry {
  entry: PointsEntryRow;
  available: number;
  pending: number;
}

/** An account whose stored balances differ from the sums of its ledger. */
export interface LedgerMismatch {
  profileId: string;
  available: number;
  ledgerAvailable: number;
  /** What the customer's released lots have left: spends and expiries take from them, so it must equal `available`. */
  lotsAvailable: number;
  pending: number;
  ledgerPending: number;
  /** What the customer's unreleased lots hold. */
  lotsPending: number;
}

/** The entry's columns (what the ledger stores of it). */
const ledgerColumns = (entry: NewPointsEntry) => ({
  profileId: entry.profileId,
  kind: entry.kind,
  availableDelta: entry.availableDelta,
  pendingDelta: entry.pendingDelta,
  cause: entry.cause,
  orderId: entry.orderId ?? null,
  reason: entry.reason ?? null,
  actor: entry.actor ?? null,
  details: entry.details ?? null,
});

/** SQLSTATE of a check violation: an account's balance would go below zero. */
export const CHECK_VIOLATION = '23514';

/** The SQL of loyalty: the append-only ledger and the balances kept in step with it. */
@Injectable()
export class LoyaltyRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  transaction<T>(work: (tx: OffersTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  /**
   * Appends an entry and moves the account's balances by its deltas (creating the account), in the
   * caller's transaction. undefined when an entry of that kind and cause exists (a replay). A
   * balance that would go below zero fails the statement with CHECK_VIOLATION: of concurrent
   * spenders, each waits for the account's row lock and is checked against the balance before it.
   */
  async append(tx: OffersTx, entry: NewPointsEntry): Promise<AppendedEntry | undefined> {
    return (await this.appendMany(tx, [entry]))[0];
  }

  /**
   * Appends entries (those whose kind and cause exist already are skipped: replays) and moves each
   * account by the sum of its entries' deltas in one statement, accounts locked in id order (two
   * batches never deadlock). Returns the appended entries in order, each with its account's
   * balances right after it.
   */
  async appendMany(tx: OffersTx, entries: NewPointsEntry[]): Promise<AppendedEntry[]> {
    if (entries.length === 0) return [];
    const rows = await tx
      .insert(tables.pointsLedger)
      .values(entries.map(ledgerColumns))
      .onConflictDoNothing({ target: [tables.pointsLedger.kind, tables.pointsLedger.cause] })
      .returning();
    if (rows.length === 0) return [];
    rows.sort((a, b) => a.id - b.id);
    const lifetime = new Map(entries.map((e) => [`${e.kind}:${e.cause}`, e.lifetimeDelta ?? (e.kind === 'earn' ? e.availableDelta + e.pendingDelta : 0)]));
    const deltas = new Map<string, { profile_id: string; available: number; pending: number; lifetime: number }>();
    for (const row of rows) {
      const d = deltas.get(row.profileId) ?? { profile_id: row.profileId, available: 0, pending: 0, lifetime: 0 };
      d.available += row.availableDelta;
      d.pending += row.pendingDelta;
      d.lifetime += lifetime.get(`${row.kind}:${row.cause}`) ?? 0;
      deltas.set(row.profileId, d);
    }
    const ids = [...deltas.keys()].sort();
    // Created empty first, then moved: PostgreSQL checks an INSERT's row against the CHECKs before it
    // looks for a conflict, so an upsert of a negative delta would fail even for an account that covers it.
    await tx.execute(sql`insert into offers.loyalty_accounts (profile_id) select json_array_elements_text(${jsonParam(ids)}::json)::uuid on conflict do nothing`);
    if (ids.length > 1) await tx.execute(sql`select 1 from offers.loyalty_accounts where profile_id = ${anyOf(ids, 'uuid')} order by profile_id for update`);
    const accounts = await queryRows<{ profile_id: string; available: string; pending: string }>(
      tx,
      sql`update offers.loyalty_accounts a set available = a.available + d.available, pending = a.pending + d.pending,
          lifetime_earned = greatest(0, a.lifetime_earned + d.lifetime), updated_at = now()
        from json_to_recordset(${jsonParam([...deltas.values()])}::json) as d(profile_id uuid, available bigint, pending bigint, lifetime bigint)
        where a.profile_id = d.profile_id
        returning a.profile_id, a.available, a.pending`,
    );
    // Balances after each entry: the account's final balances less the deltas of its later entries.
    const after = new Map(accounts.map((a) => [a.profile_id, { available: Number(a.available), pending: Number(a.pending) }]));
    const appended: AppendedEntry[] = new Array(rows.length);
    for (let i = rows.length - 1; i >= 0; i -= 1) {
      const row = rows[i];
      const balance = after.get(row.profileId) as { available: number; pending: number };
      appended[i] = { entry: row, available: balance.available, pending: balance.pending };
      after.set(row.profileId, { available: balance.available - row.availableDelta, pending: balance.pending - row.pendingDelta });
    }
    return appended;
  }

  /** The causes among these that the ledger holds for `kind` (replays to skip before computing anything). */
  async existingCauses(tx: OffersTx, kind: PointsEntryKind, causes: string[]): Promise<Set<string>> {
    if (causes.length === 0) return new Set();
    const l = tables.pointsLedger;
    const rows = await tx
      .select({ cause: l.cause })
      .from(l)
      .where(and(eq(l.kind, kind), sql`${l.cause} = ${anyOf(causes, 'text')}`));
    return new Set(rows.map((r) => r.cause));
  }

  /** The entry of a kind and cause (a replayed request's first answer). */
  async entryByCause(tx: OffersTx, kind: PointsEntryKind, cause: string): Promise<PointsEntryRow | undefined> {
    const l = tables.pointsLedger;
    const [row] = await tx
      .select()
      .from(l)
      .where(and(eq(l.kind, kind), eq(l.cause, cause)))
      .limit(1);
    return row;
  }

  async account(profileId: string, tx?: OffersTx) {
    const [row] = await (tx ?? this.database.db).select().from(tables.loyaltyAccounts).where(eq(tables.loyaltyAccounts.profileId, profileId)).limit(1);
    return row;
  }

  /** Lots of points (an order's earn, a positive adjustment), in the transaction of their entries. */
  async addLots(tx: OffersTx, lots: NewPointLot[]): Promise<void> {
    if (lots.length > 0) await tx.insert(tables.pointLots).values(lots.map((lot) => ({ ...lot, remaining: lot.points, earned: lot.points })));
  }

  /** Lots whose return window has passed and that are not released yet, locked (another replica's release skips them). */
  async dueLots(tx: OffersTx, now: Date, limit: number, profileId?: string): Promise<PointLotRow[]> {
    const p = tables.pointLots;
    return tx
      .select()
      .from(p)
      .where(and(eq(p.released, false), lte(p.availableAt, now), profileId ? eq(p.profileId, profileId) : undefined))
      .orderBy(asc(p.availableAt))
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  async markReleased(tx: OffersTx, entryId: number): Promise<void> {
    await tx.update(tables.pointLots).set({ released: true }).where(eq(tables.pointLots.entryId, entryId));
  }

  /** Released lots past their expiry with points left, locked. */
  async expiredLots(tx: OffersTx, now: Date, limit: number, profileId?: string): Promise<PointLotRow[]> {
    const p = tables.pointLots;
    return tx
      .select()
      .from(p)
      .where(and(eq(p.released, true), sql`${p.remaining} > 0`, lte(p.expiresAt, now), profileId ? eq(p.profileId, profileId) : undefined))
      .orderBy(asc(p.expiresAt))
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  /** Lots with points left that expire after `now` and by `until` and were not announced yet: marked announced, returned. */
  async takeExpiryNotices(tx: OffersTx, now: Date, until: Date, limit: number): Promise<PointLotRow[]> {
    return queryRows<PointLotRow>(
      tx,
      sql`update offers.point_lots l set expiry_noticed = true
        from (select entry_id from offers.point_lots where not expiry_noticed and remaining > 0 and expires_at > ${now} and expires_at <= ${until} order by expires_at limit ${limit} for update skip locked) due
        where l.entry_id = due.entry_id
        returning l.entry_id as "entryId", l.profile_id as "profileId", l.remaining, l.expires_at as "expiresAt"`,
    );
  }

  /**
   * Takes `points` from a customer's released lots, oldest first (FIFO), in the transaction that
   * took them from the balance (whose row lock serialises the customer's changes).
   */
  async consumeOldestFirst(tx: OffersTx, profileId: string, points: number): Promise<void> {
    await tx.execute(
      sql`with ordered as (
          select entry_id, remaining, sum(remaining) over (order by earned_at, entry_id) - remaining as before
          from offers.point_lots where profile_id = ${profileId} and released and remaining > 0)
        update offers.point_lots l set remaining = l.remaining - least(o.remaining, ${points}::bigint - o.before)
        from ordered o where l.entry_id = o.entry_id and o.before < ${points}::bigint`,
    );
  }

  /** Sets what a lot holds and has left (a clawback), and what refunds gave back of its order. */
  async updateLot(tx: OffersTx, entryId: number, change: { points: number; remaining: number; refundedAmount: number }): Promise<void> {
    await tx.update(tables.pointLots).set({ points: change.points, remaining: change.remaining, refundedAmount: change.refundedAmount }).where(eq(tables.pointLots.entryId, entryId));
  }

  async expireLot(tx: OffersTx, entryId: number): Promise<void> {
    await tx.update(tables.pointLots).set({ remaining: 0 }).where(eq(tables.pointLots.entryId, entryId));
  }

  /** The lot an order earned, locked for its refund. */
  async lotOfOrder(tx: OffersTx, orderId: string): Promise<PointLotRow | undefined> {
    const [row] = await tx.select().from(tables.pointLots).where(eq(tables.pointLots.orderId, orderId)).limit(1).for('update');
    return row;
  }

  /** A customer's lots not yet released (pending), soonest first. */
  async pendingLotsOf(profileId: string) {
    const p = tables.pointLots;
    return this.database.db
      .select({ points: p.remaining, availableAt: p.availableAt })
      .from(p)
      .where(and(eq(p.profileId, profileId), eq(p.released, false), sql`${p.remaining} > 0`))
      .orderBy(asc(p.availableAt));
  }

  /** A customer's points that expire by `until`, soonest first. */
  async expiringOf(profileId: string, until: Date) {
    const p = tables.pointLots;
    return this.database.db
      .select({ points: p.remaining, expiresAt: p.expiresAt })
      .from(p)
      .where(and(eq(p.profileId, profileId), eq(p.released, true), sql`${p.remaining} > 0`, lte(p.expiresAt, until)))
      .orderBy(asc(p.expiresAt));
  }

  /** What a customer earned (points, net of clawbacks) and spent (by currency, net of refunds) since `since`: tier qualification. */
  async qualification(profileId: string, since: Date, tx?: OffersTx): Promise<Qualification> {
    return (await this.qualifications([profileId], since, tx)).get(profileId) ?? { points: 0, spend: new Map() };
  }

  /** The same for several customers in one statement (those with nothing in the window are left out). */
  async qualifications(profileIds: string[], since: Date, tx?: OffersTx): Promise<Map<string, Qualification>> {
    const rows = await queryRows<{ profile_id: string; currency: string | null; points: string; spend: number | null }>(
      tx ?? this.database.db,
      sql`select profile_id, order_currency as currency, sum(points) as points, sum(order_amount - refunded_amount) as spend
        from offers.point_lots where profile_id = ${anyOf(profileIds, 'uuid')} and earned_at >= ${since} group by profile_id, order_currency`,
    );
    const result = new Map<string, { points: number; spend: Map<string, number> }>();
    for (const row of rows) {
      const q = result.get(row.profile_id) ?? { points: 0, spend: new Map<string, number>() };
      q.points += Number(row.points);
      if (row.currency !== null) q.spend.set(row.currency, Number(row.spend ?? 0));
      result.set(row.profile_id, q);
    }
    return result;
  }

  /** Each customer's tier (accounts without one are left out). */
  async tiersOf(tx: OffersTx, profileIds: string[]): Promise<Map<string, string>> {
    const a = tables.loyaltyAccounts;
    const rows = await tx
      .select({ profileId: a.profileId, tier: a.tier })
      .from(a)
      .where(and(sql`${a.profileId} = ${anyOf(profileIds, 'uuid')}`, sql`${a.tier} is not null`));
    return new Map(rows.map((r) => [r.profileId, r.tier as string]));
  }

  /** Points each customer earned since `since` (the daily cap). */
  async earnedSince(tx: OffersTx, profileIds: string[], since: Date): Promise<Map<string, number>> {
    const l = tables.pointsLedger;
    const rows = await tx
      .select({ profileId: l.profileId, n: sql<string>`sum(${l.pendingDelta} + ${l.availableDelta})` })
      .from(l)
      .where(and(sql`${l.profileId} = ${anyOf(profileIds, 'uuid')}`, eq(l.kind, 'earn'), gte(l.at, since)))
      .groupBy(l.profileId);
    return new Map(rows.map((r) => [r.profileId, Number(r.n)]));
  }

  /** A page of a customer's ledger, newest first; `before` is the cursor (an entry id). */
  async history(profileId: string, limit: number, before: number | null): Promise<PointsEntryRow[]> {
    const l = tables.pointsLedger;
    return this.database.db
      .select()
      .from(l)
      .where(and(eq(l.profileId, profileId), before === null ? undefined : lt(l.id, before)))
      .orderBy(desc(l.id))
      .limit(limit);
  }

  /** The segments each customer is a member of, from the read model (segment multipliers). */
  async segmentsOf(tx: OffersTx, profileIds: string[]): Promise<Map<string, Set<string>>> {
    const m = tables.membershipView;
    const rows = await tx
      .select({ profileId: m.profileId, key: m.segmentKey })
      .from(m)
      .where(and(sql`${m.profileId} = ${anyOf(profileIds, 'uuid')}`, eq(m.member, true)));
    const segments = new Map<string, Set<string>>();
    for (const row of rows) segments.set(row.profileId, (segments.get(row.profileId) ?? new Set()).add(row.key));
    return segments;
  }

  /** Every account whose balances differ from its ledger's sums (and ledgers without an account). */
  async mismatches(): Promise<{ accounts: number; mismatches: LedgerMismatch[] }> {
    const rows = await queryRows<{ profile_id: string; available: string; pending: string; ledger_available: string; ledger_pending: string; lots_available: string; lots_pending: string }>(
      this.database.db,
      sql`with sums as (select profile_id, sum(available_delta) as available, sum(pending_delta) as pending from offers.points_ledger group by profile_id),
          lots as (select profile_id, sum(remaining) filter (where released) as available, sum(remaining) filter (where not released) as pending from offers.point_lots group by profile_id),
          ids as (select profile_id from offers.loyalty_accounts union select profile_id from sums union select profile_id from lots)
        select ids.profile_id, coalesce(a.available, 0) as available, coalesce(a.pending, 0) as pending,
          coalesce(s.available, 0) as ledger_available, coalesce(s.pending, 0) as ledger_pending,
          coalesce(l.available, 0) as lots_available, coalesce(l.pending, 0) as lots_pending
        from ids left join offers.loyalty_accounts a on a.profile_id = ids.profile_id left join sums s on s.profile_id = ids.profile_id left join lots l on l.profile_id = ids.profile_id
        where coalesce(a.available, 0) <> coalesce(s.available, 0) or coalesce(a.pending, 0) <> coalesce(s.pending, 0)
          or coalesce(a.available, 0) <> coalesce(l.available, 0) or coalesce(a.pending, 0) <> coalesce(l.pending, 0)
        order by 1 limit 1000`,
    );
    const [{ n }] = await queryRows<{ n: number }>(this.database.db, sql`select count(*)::int as n from offers.loyalty_accounts`);
    return {
      accounts: n,
      mismatches: rows.map((r) => ({
        profileId: r.profile_id,
        available: Number(r.available),
        ledgerAvailable: Number(r.ledger_available),
        lotsAvailable: Number(r.lots_available),
        pending: Number(r.pending),
        ledgerPending: Number(r.ledger_pending),
        lotsPending: Number(r.lots_pending),
      })),
    };
  }

  async activeEarnRules(tx: OffersTx): Promise<Array<{ key: string; rule: EarnRuleDefinition }>> {
    return tx.select({ key: tables.earnRules.key, rule: tables.earnRules.rule }).from(tables.earnRules).where(eq(tables.earnRules.active, true)).orderBy(asc(tables.earnRules.key));
  }

  /** Keeps customers' birthdays (MM-DD) for a birthday bonus, creating their accounts. */
  async setBirthdays(tx: OffersTx, birthdays: Array<{ profile_id: string; birthday: string }>): Promise<void> {
    if (birthdays.length === 0) return;
    await tx.execute(sql`insert into offers.loyalty_accounts (profile_id, birthday)
      select profile_id, birthday from json_to_recordset(${jsonParam(birthdays)}::json) as x(profile_id uuid, birthday text)
      on conflict (profile_id) do update set birthday = excluded.birthday, updated_at = now()`);
  }

  /** Accounts whose birthday is `monthDay` and that have no entry of `causePrefix`<id> yet, locked. */
  /** Accounts whose birthday bonus is due today, but for `passedOver` (held out of the programme: they get none). */
  async birthdaysDue(tx: OffersTx, monthDay: string, causeOf: (profileId: string) => string, limit: number, passedOver: readonly string[] = []): Promise<string[]> {
    const rows = await queryRows<{ profile_id: string }>(
      tx,
      sql`select a.profile_id from offers.loyalty_accounts a where a.birthday = ${monthDay}
        and not exists (select 1 from offers.points_ledger l where l.kind = 'earn' and l.cause = ${causeOf('')} || a.profile_id::text)
        ${passedOver.length > 0 ? sql`and not a.profile_id = ${anyOf(passedOver, 'uuid')}` : sql``}
        order by a.profile_id limit ${limit} for update of a skip locked`,
    );
    return rows.map((r) => r.profile_id);
  }

  async earnRules(): Promise<EarnRuleRow[]> {
    return this.database.db.select().from(tables.earnRules).orderBy(asc(tables.earnRules.key));
  }

  async earnRule(key: string): Promise<EarnRuleRow | undefined> {
    const [row] = await this.database.db.select().from(tables.earnRules).where(eq(tables.earnRules.key, key)).limit(1);
    return row;
  }

  /** Creates the rule; undefined when the key is taken. */
  async insertEarnRule(rule: { key: string; name: string; rule: EarnRuleDefinition; active: boolean }): Promise<EarnRuleRow | undefined> {
    const [row] = await this.database.db.insert(tables.earnRules).values(rule).onConflictDoNothing().returning();
    return row;
  }

  async updateEarnRule(key: string, change: { name: string; rule: EarnRuleDefinition; active: boolean }): Promise<EarnRuleRow | undefined> {
    const [row] = await this.database.db
      .update(tables.earnRules)
      .set({ ...change, updatedAt: sql`now()` })
      .where(eq(tables.earnRules.key, key))
      .returning();
    return row;
  }

  async deleteEarnRule(key: string): Promise<boolean> {
    const rows = await this.database.db.delete(tables.earnRules).where(eq(tables.earnRules.key, key)).returning({ key: tables.earnRules.key });
    return rows.length === 1;
  }

  async program(tx?: OffersTx): Promise<LoyaltyProgramRow> {
    const [row] = await (tx ?? this.database.db).select().from(tables.loyaltyProgram).where(eq(tables.loyaltyProgram.id, 1)).limit(1);
    return row;
  }

  async updateProgram(change: Omit<LoyaltyProgramRow, 'id' | 'updatedAt'>): Promise<LoyaltyProgramRow> {
    const [row] = await this.database.db
      .update(tables.loyaltyProgram)
      .set({ ...change, updatedAt: sql`now()` })
      .where(eq(tables.loyaltyProgram.id, 1))
      .returning();
    return row;
  }

  /** Tiers by rank, lowest first. */
  async tiers(tx?: OffersTx): Promise<TierRow[]> {
    return (tx ?? this.database.db).select().from(tables.tiers).orderBy(asc(tables.tiers.rank));
  }

  /** Creates or replaces a tier; a rank another tier holds fails with a unique violation. */
  async upsertTier(tier: Omit<TierRow, 'createdAt' | 'updatedAt'>): Promise<TierRow> {
    const [row] = await this.database.db
      .insert(tables.tiers)
      .values(tier)
      .onConflictDoUpdate({
        target: tables.tiers.key,
        set: { name: tier.name, rank: tier.rank, minPoints: tier.minPoints, minSpend: tier.minSpend, spendCurrency: tier.spendCurrency, updatedAt: sql`now()` },
      })
      .returning();
    return row;
  }

  async deleteTier(key: string): Promise<boolean> {
    const rows = await this.database.db.delete(tables.tiers).where(eq(tables.tiers.key, key)).returning({ key: tables.tiers.key });
    return rows.length === 1;
  }

  /** Sets an account's tier (creating the account), with its next review. */
  async setTier(tx: OffersTx, profileId: string, tier: string | null, since: Date, reviewAt: Date | null): Promise<void> {
    const a = tables.loyaltyAccounts;
    await tx
      .insert(a)
      .values({ profileId, tier, tierSince: since, tierReviewAt: reviewAt })
      .onConflictDoUpdate({ target: a.profileId, set: { tier, tierSince: since, tierReviewAt: reviewAt, updatedAt: sql`now()` } });
  }

  async setReview(tx: OffersTx, profileId: string, reviewAt: Date): Promise<void> {
    await tx.update(tables.loyaltyAccounts).set({ tierReviewAt: reviewAt }).where(eq(tables.loyaltyAccounts.profileId, profileId));
  }

  /** Accounts with a tier whose review date plus the grace period has passed, locked. */
  async dueForReview(tx: OffersTx, before: Date, limit: number) {
    const a = tables.loyaltyAccounts;
    return tx
      .select({ profileId: a.profileId, tier: a.tier, tierReviewAt: a.tierReviewAt })
      .from(a)
      .where(and(sql`${a.tier} is not null`, lte(a.tierReviewAt, before)))
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  /** Records a points multiplier for an order that has not earned yet. */
  async addOrderMultiplier(tx: OffersTx, row: { redemptionId: string; orderId: string; profileId: string; multiplier: number }): Promise<void> {
    await tx.insert(tables.orderMultipliers).values(row).onConflictDoNothing();
  }

  /** The multipliers waiting for these orders, taken (deleted) as they are applied. */
  async takeOrderMultipliers(tx: OffersTx, orderIds: string[]): Promise<Array<{ redemptionId: string; orderId: string; multiplier: number }>> {
    if (orderIds.length === 0) return [];
    return queryRows(tx, sql`delete from offers.order_multipliers where order_id = ${anyOf(orderIds, 'text')} returning redemption_id as "redemptionId", order_id as "orderId", multiplier`);
  }

  async dropOrderMultiplier(tx: OffersTx, redemptionId: string): Promise<void> {
    await tx.delete(tables.orderMultipliers).where(eq(tables.orderMultipliers.redemptionId, redemptionId));
  }

  /** The lot an entry created (a bonus, an order's extra points), locked. */
  async lotOfEntry(tx: OffersTx, entryId: number): Promise<PointLotRow | undefined> {
    const [row] = await tx.select().from(tables.pointLots).where(eq(tables.pointLots.entryId, entryId)).limit(1).for('update');
    return row;
  }
}
