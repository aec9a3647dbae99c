import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import { DATABASE, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import type { PointsEntryKind } from '@segmenta/contracts';
import type { OffersTx } from '../catalog/offers.repository';
import * as tables from '../db/schema';
import type { EarnRuleDefinition } from './earning';

export type PointsEntryRow = typeof tables.pointsLedger.$inferSelect;
export type EarnRuleRow = typeof tables.earnRules.$inferSelect;
export type LoyaltyProgramRow = typeof tables.loyaltyProgram.$inferSelect;

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
  pending: number;
  ledgerPending: number;
}

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
    const [row] = await tx
      .insert(tables.pointsLedger)
      .values({ ...entry, orderId: entry.orderId ?? null, reason: entry.reason ?? null, actor: entry.actor ?? null, details: entry.details ?? null })
      .onConflictDoNothing({ target: [tables.pointsLedger.kind, tables.pointsLedger.cause] })
      .returning();
    if (!row) return undefined;
    const earned = entry.kind === 'earn' || entry.kind === 'clawback' ? entry.availableDelta + entry.pendingDelta : 0;
    const a = tables.loyaltyAccounts;
    // Created empty first, then moved: PostgreSQL checks an INSERT's row against the CHECKs before it
    // looks for a conflict, so an upsert of a negative delta would fail even for an account that covers it.
    await tx.insert(a).values({ profileId: entry.profileId }).onConflictDoNothing();
    const [account] = await tx
      .update(a)
      .set({
        available: sql`${a.available} + ${entry.availableDelta}`,
        pending: sql`${a.pending} + ${entry.pendingDelta}`,
        lifetimeEarned: sql`greatest(0, ${a.lifetimeEarned} + ${earned})`,
        updatedAt: sql`now()`,
      })
      .where(eq(a.profileId, entry.profileId))
      .returning({ available: a.available, pending: a.pending });
    return { entry: row, available: account.available, pending: account.pending };
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

  async account(tx: OffersTx | Database<typeof tables>['db'], profileId: string) {
    const [row] = await tx.select().from(tables.loyaltyAccounts).where(eq(tables.loyaltyAccounts.profileId, profileId)).limit(1);
    return row;
  }

  /** Records points earned into pending until `availableAt`. */
  async addPending(tx: OffersTx, earnEntryId: number, profileId: string, points: number, availableAt: Date): Promise<void> {
    await tx.insert(tables.pendingPoints).values({ earnEntryId, profileId, points, availableAt });
  }

  /** Pending points due by `now`, locked for this transaction (another replica's release skips them). */
  async duePending(tx: OffersTx, now: Date, limit: number, profileId?: string) {
    const p = tables.pendingPoints;
    return tx
      .select()
      .from(p)
      .where(and(lte(p.availableAt, now), profileId ? eq(p.profileId, profileId) : undefined))
      .orderBy(asc(p.availableAt))
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  async removePending(tx: OffersTx, earnEntryId: number): Promise<void> {
    await tx.delete(tables.pendingPoints).where(eq(tables.pendingPoints.earnEntryId, earnEntryId));
  }

  /** A customer's pending points, soonest first. */
  async pendingOf(profileId: string) {
    const p = tables.pendingPoints;
    return this.database.db.select({ points: p.points, availableAt: p.availableAt }).from(p).where(eq(p.profileId, profileId)).orderBy(asc(p.availableAt));
  }

  /** Points a customer earned since `since` (the daily cap). */
  async earnedSince(tx: OffersTx, profileId: string, since: Date): Promise<number> {
    const l = tables.pointsLedger;
    const [row] = await tx
      .select({ n: sql<string>`coalesce(sum(${l.pendingDelta} + ${l.availableDelta}), 0)` })
      .from(l)
      .where(and(eq(l.profileId, profileId), eq(l.kind, 'earn'), gte(l.at, since)));
    return Number(row.n);
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

  /** The segments a customer is a member of, from the read model (segment multipliers). */
  async segmentsOf(tx: OffersTx, profileId: string): Promise<Set<string>> {
    const m = tables.membershipView;
    const rows = await tx
      .select({ key: m.segmentKey })
      .from(m)
      .where(and(eq(m.profileId, profileId), eq(m.member, true)));
    return new Set(rows.map((r) => r.key));
  }

  /** Every account whose balances differ from its ledger's sums (and ledgers without an account). */
  async mismatches(): Promise<{ accounts: number; mismatches: LedgerMismatch[] }> {
    const rows = await queryRows<{ profile_id: string; available: string; pending: string; ledger_available: string; ledger_pending: string }>(
      this.database.db,
      sql`with sums as (select profile_id, sum(available_delta) as available, sum(pending_delta) as pending from offers.points_ledger group by profile_id)
        select coalesce(a.profile_id, s.profile_id) as profile_id, coalesce(a.available, 0) as available, coalesce(a.pending, 0) as pending,
          coalesce(s.available, 0) as ledger_available, coalesce(s.pending, 0) as ledger_pending
        from offers.loyalty_accounts a full join sums s on s.profile_id = a.profile_id
        where coalesce(a.available, 0) <> coalesce(s.available, 0) or coalesce(a.pending, 0) <> coalesce(s.pending, 0)
        order by 1 limit 1000`,
    );
    const [{ n }] = await queryRows<{ n: number }>(this.database.db, sql`select count(*)::int as n from offers.loyalty_accounts`);
    return {
      accounts: n,
      mismatches: rows.map((r) => ({
        profileId: r.profile_id,
        available: Number(r.available),
        ledgerAvailable: Number(r.ledger_available),
        pending: Number(r.pending),
        ledgerPending: Number(r.ledger_pending),
      })),
    };
  }

  async activeEarnRules(tx: OffersTx): Promise<EarnRuleDefinition[]> {
    const rows = await tx.select({ rule: tables.earnRules.rule }).from(tables.earnRules).where(eq(tables.earnRules.active, true));
    return rows.map((r) => r.rule);
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

  async updateProgram(change: { returnWindowDays: number; capPerOrder: number | null; capPerDay: number | null }): Promise<LoyaltyProgramRow> {
    const [row] = await this.database.db
      .update(tables.loyaltyProgram)
      .set({ ...change, updatedAt: sql`now()` })
      .where(eq(tables.loyaltyProgram.id, 1))
      .returning();
    return row;
  }
}
