import { Injectable, Logger } from '@nestjs/common';
import { ConflictError, NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import { SUBJECTS, type LoyaltyPointsChangedV1, type ProfileActivityV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { sqlState } from '@segmenta/persistence';
import type { OffersTx } from '../catalog/offers.repository';
import { IDEMPOTENCY_KEY } from '../redemptions/redemption-rules';
import { orderFromProperties, pointsForOrder, withinDailyCap } from './earning';
import { earnRuleDefinition, type AdjustPointsDto, type CreateEarnRuleDto, type EarnRuleBodyDto, type LoyaltyHistoryQueryDto, type LoyaltyProgramDto, type RedeemPointsDto } from './loyalty.dto';
import { CHECK_VIOLATION, LoyaltyRepository, type AppendedEntry, type EarnRuleRow, type LoyaltyProgramRow, type NewPointsEntry, type PointsEntryRow } from './loyalty.repository';

const DAY_MS = 86_400_000;
/** Pending points released per transaction of the release job. */
const RELEASE_BATCH = 500;

/** An activity as the PROFILES consumer hands it over: the envelope's id and the validated data. */
export interface ActivityMessage {
  id: string;
  data: ProfileActivityV1;
}

/** The answer to a spend or an adjustment: the entry and the balances after it. */
export interface PointsChangeAnswer {
  status: 201 | 200;
  body: ReturnType<typeof entryView> & { available: number; pending: number };
  replayed: boolean;
}

export function entryView(entry: PointsEntryRow) {
  return {
    entryId: entry.id,
    profileId: entry.profileId,
    kind: entry.kind,
    availableDelta: entry.availableDelta,
    pendingDelta: entry.pendingDelta,
    cause: entry.cause,
    orderId: entry.orderId,
    reason: entry.reason,
    details: entry.details,
    at: entry.at.toISOString(),
  };
}

const earnRuleView = (row: EarnRuleRow) => ({ key: row.key, name: row.name, rule: row.rule, active: row.active, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() });
const programView = (row: LoyaltyProgramRow) => ({ returnWindowDays: row.returnWindowDays, capPerOrder: row.capPerOrder, capPerDay: row.capPerDay, updatedAt: row.updatedAt.toISOString() });

/**
 * Loyalty (issue 19): an append-only points ledger whose sums are the account's balances, kept in
 * step in each entry's transaction (ADR 23). Orders earn through the earn rules into pending points,
 * released when the return window has passed; spending never takes a balance below zero.
 */
@Injectable()
export class LoyaltyService {
  private readonly logger = new Logger('Loyalty');

  constructor(
    private readonly repository: LoyaltyRepository,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Earns for each `Order Completed` among the activities, once per order (`order:<order_id>`, or
   * `event:<messageId>` for an order without an id), each in its own transaction: a replay, a
   * redelivery or the same order sent twice earns nothing more.
   */
  async earnFromActivities(messages: ActivityMessage[]): Promise<number> {
    let earned = 0;
    for (const { data } of messages) {
      if (data.type !== 'track' || data.name !== 'Order Completed') continue;
      const order = orderFromProperties(data.properties);
      if (!order) {
        this.logger.warn(`Order Completed ${data.eventId} of ${data.profileId} has no amount to earn on; skipped`);
        continue;
      }
      const appended = await this.repository.transaction(async (tx) => {
        const rules = await this.repository.activeEarnRules(tx);
        if (rules.length === 0) return undefined;
        const program = await this.repository.program(tx);
        const segments = rules.some((r) => r.type === 'segment_multiplier') ? await this.repository.segmentsOf(tx, data.profileId) : new Set<string>();
        const earning = pointsForOrder(order, rules, (s) => segments.has(s), program.capPerOrder);
        const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
        const points = program.capPerDay === null ? earning.points : withinDailyCap(earning.points, await this.repository.earnedSince(tx, data.profileId, today), program.capPerDay);
        if (points <= 0) return undefined;
        const immediately = program.returnWindowDays === 0;
        const entry = await this.append(tx, {
          profileId: data.profileId,
          kind: 'earn',
          availableDelta: immediately ? points : 0,
          pendingDelta: immediately ? 0 : points,
          cause: order.orderId === null ? `event:${data.eventId}` : `order:${order.orderId}`,
          orderId: order.orderId,
          details: { ...earning.details, cappedPerDay: points < earning.points ? program.capPerDay : null },
        });
        if (entry && !immediately) await this.repository.addPending(tx, entry.entry.id, data.profileId, points, new Date(Date.parse(data.occurredAt) + program.returnWindowDays * DAY_MS));
        return entry;
      });
      if (appended) earned += 1;
    }
    if (earned > 0) this.outbox.wake();
    return earned;
  }

  /** Moves pending points whose return window has passed to available (the job; a customer's read does it for theirs). */
  async releaseDue(now = new Date(), profileId?: string): Promise<number> {
    let released = 0;
    for (;;) {
      const n = await this.repository.transaction(async (tx) => {
        const due = await this.repository.duePending(tx, now, RELEASE_BATCH, profileId);
        for (const pending of due) {
          await this.append(tx, { profileId: pending.profileId, kind: 'release', availableDelta: pending.points, pendingDelta: -pending.points, cause: `release:${pending.earnEntryId}` });
          await this.repository.removePending(tx, pending.earnEntryId);
        }
        return due.length;
      });
      released += n;
      if (n < RELEASE_BATCH) break;
    }
    if (released > 0) this.outbox.wake();
    return released;
  }

  /** Spends available points once per Idempotency-Key; refused (409) when the balance does not cover them, also under concurrent spends. */
  redeem(idempotencyKey: string | undefined, body: RedeemPointsDto): Promise<PointsChangeAnswer> {
    return this.changeOnce(idempotencyKey, 'redeem', { profileId: body.profileId, availableDelta: -body.points, pendingDelta: 0, orderId: body.orderId ?? null });
  }

  /** An admin's adjustment (reason required), once per Idempotency-Key; a deduction is refused (409) beyond the available balance. */
  adjust(idempotencyKey: string | undefined, body: AdjustPointsDto, actor: string): Promise<PointsChangeAnswer> {
    return this.changeOnce(idempotencyKey, 'adjust', { profileId: body.profileId, availableDelta: body.points, pendingDelta: 0, reason: body.reason, actor });
  }

  private async changeOnce(idempotencyKey: string | undefined, kind: 'redeem' | 'adjust', change: Omit<NewPointsEntry, 'kind' | 'cause'>): Promise<PointsChangeAnswer> {
    if (idempotencyKey === undefined || idempotencyKey === '')
      throw ValidationFailedError.of([{ field: 'Idempotency-Key', problem: 'header is required: a unique value per request, such as a UUID, sent again unchanged on a retry' }]);
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) throw ValidationFailedError.of([{ field: 'Idempotency-Key', problem: 'must be 1 to 200 visible ASCII characters' }]);
    const cause = `request:${idempotencyKey}`;
    try {
      const answer = await this.repository.transaction(async (tx): Promise<PointsChangeAnswer> => {
        const appended = await this.append(tx, { ...change, kind, cause });
        if (appended) return { status: 201, body: { ...entryView(appended.entry), available: appended.available, pending: appended.pending }, replayed: false };
        const first = (await this.repository.entryByCause(tx, kind, cause)) as PointsEntryRow;
        if (first.profileId !== change.profileId || first.availableDelta !== change.availableDelta)
          throw new ConflictError('The Idempotency-Key was used for another request', [{ field: 'Idempotency-Key', problem: 'was used with another body; use a new key for a new request' }]);
        const account = await this.repository.account(tx, first.profileId);
        return { status: 201, body: { ...entryView(first), available: account?.available ?? 0, pending: account?.pending ?? 0 }, replayed: true };
      });
      this.outbox.wake();
      return answer;
    } catch (error) {
      if (sqlState(error) !== CHECK_VIOLATION) throw error;
      const account = await this.repository.transaction((tx) => this.repository.account(tx, change.profileId));
      const available = account?.available ?? 0;
      throw new ConflictError(`Not enough points: ${-change.availableDelta} asked, ${available} available`, [
        { field: 'points', problem: `exceeds the available balance (${available}${account && account.pending > 0 ? `; ${account.pending} more are pending` : ''})` },
      ]);
    }
  }

  /** Appends an entry and its loyalty.points message, in the caller's transaction. */
  private async append(tx: OffersTx, entry: NewPointsEntry): Promise<AppendedEntry | undefined> {
    const appended = await this.repository.append(tx, entry);
    if (!appended) return undefined;
    const e = appended.entry;
    const data: LoyaltyPointsChangedV1 = {
      profileId: e.profileId,
      entryId: e.id,
      kind: e.kind,
      availableDelta: e.availableDelta,
      pendingDelta: e.pendingDelta,
      available: appended.available,
      pending: appended.pending,
      cause: e.cause,
      orderId: e.orderId,
      at: e.at.toISOString(),
    };
    await this.outbox.write(tx, [{ subject: SUBJECTS.loyaltyPoints, envelope: createEnvelope(SUBJECTS.loyaltyPoints, data, { id: `points-${e.id}`, occurredAt: e.at }), partitionKey: e.profileId }]);
    return appended;
  }

  /** A customer's loyalty: balances (after releasing what is due), pending points and a page of the history, newest first. */
  async customer(profileId: string, query: LoyaltyHistoryQueryDto) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(profileId)) throw ValidationFailedError.of([{ field: 'id', problem: 'must be a profile id (a UUID)' }]);
    const id = profileId.toLowerCase();
    const before = query.cursor === undefined ? null : Number(query.cursor);
    if (before !== null && !(Number.isSafeInteger(before) && before > 0)) throw ValidationFailedError.of([{ field: 'cursor', problem: 'must be the nextCursor of the previous page' }]);
    await this.releaseDue(new Date(), id);
    const limit = query.limit ?? 50;
    const [account, pending, entries] = await Promise.all([
      this.repository.transaction((tx) => this.repository.account(tx, id)),
      this.repository.pendingOf(id),
      this.repository.history(id, limit + 1, before),
    ]);
    const page = entries.slice(0, limit);
    return {
      profileId: id,
      available: account?.available ?? 0,
      pending: account?.pending ?? 0,
      lifetimeEarned: account?.lifetimeEarned ?? 0,
      tier: null,
      pendingPoints: pending.map((p) => ({ points: p.points, availableAt: p.availableAt.toISOString() })),
      history: page.map(entryView),
      nextCursor: entries.length > limit ? String(page[page.length - 1].id) : null,
    };
  }

  /** Whether every account's balances equal its ledger's sums (the check the tests run and admins may). */
  async ledgerCheck() {
    const { accounts, mismatches } = await this.repository.mismatches();
    return { ok: mismatches.length === 0, accounts, mismatches };
  }

  async listEarnRules() {
    return { earnRules: (await this.repository.earnRules()).map(earnRuleView) };
  }

  async earnRule(key: string) {
    const row = await this.repository.earnRule(key);
    if (!row) throw new NotFoundError(`No earn rule ${key}`);
    return earnRuleView(row);
  }

  async createEarnRule(body: CreateEarnRuleDto) {
    const row = await this.repository.insertEarnRule({ key: body.key, name: body.name, rule: earnRuleDefinition(body.rule), active: body.active ?? true });
    if (!row) throw new ConflictError(`An earn rule ${body.key} exists`, [{ field: 'key', problem: 'is taken' }]);
    return earnRuleView(row);
  }

  async replaceEarnRule(key: string, body: EarnRuleBodyDto) {
    const row = await this.repository.updateEarnRule(key, { name: body.name, rule: earnRuleDefinition(body.rule), active: body.active ?? true });
    if (!row) throw new NotFoundError(`No earn rule ${key}`);
    return earnRuleView(row);
  }

  async deleteEarnRule(key: string): Promise<void> {
    if (!(await this.repository.deleteEarnRule(key))) throw new NotFoundError(`No earn rule ${key}`);
  }

  async program() {
    return programView(await this.repository.program());
  }

  async updateProgram(body: LoyaltyProgramDto) {
    return programView(await this.repository.updateProgram({ returnWindowDays: body.returnWindowDays, capPerOrder: body.capPerOrder ?? null, capPerDay: body.capPerDay ?? null }));
  }
}
