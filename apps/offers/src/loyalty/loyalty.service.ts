import { Injectable, Logger, UnprocessableEntityException } from '@nestjs/common';
import { ConflictError, NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import { SUBJECTS, type LoyaltyPointsChangedV1, type LoyaltyPointsExpiringV1, type LoyaltyTierChangedV1, type ProfileActivityV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { sqlState } from '@segmenta/persistence';
import type { OffersTx } from '../catalog/offers.repository';
import type { OfferReward } from '../catalog/offer-rules';
import { OFFER_KEY } from '../catalog/offers.dto';
import { idempotencyKeyProblem, isUuid } from '../redemptions/redemption-rules';
import { clawbackFor, type Clawback } from './clawback';
import { ProgrammeHoldoutReader } from '../personalization/programme-holdout';
import { birthdayOf, bonusesFor, orderFromProperties, pointsForOrder, withinDailyCap, type EarnRuleDefinition, type OrderForEarning } from './earning';
import { rankOf, tierMove } from './tiers';
import {
  earnRuleDefinition,
  type AdjustPointsDto,
  type CreateEarnRuleDto,
  type EarnRuleBodyDto,
  type LoyaltyHistoryQueryDto,
  type LoyaltyProgramDto,
  type RedeemPointsDto,
  type TierDto,
} from './loyalty.dto';
import {
  CHECK_VIOLATION,
  LoyaltyRepository,
  type AppendedEntry,
  type EarnRuleRow,
  type LoyaltyProgramRow,
  type NewPointLot,
  type NewPointsEntry,
  type PointsEntryRow,
  type TierRow,
  type PointLotRow,
} from './loyalty.repository';

const DAY_MS = 86_400_000;
/** Lots (or accounts) handled per transaction of the jobs. */
const BATCH = 500;

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
const programView = (row: LoyaltyProgramRow) => ({
  returnWindowDays: row.returnWindowDays,
  capPerOrder: row.capPerOrder,
  capPerDay: row.capPerDay,
  expireAfterDays: row.expireAfterDays,
  expiringNoticeDays: row.expiringNoticeDays,
  tierWindowDays: row.tierWindowDays,
  tierGraceDays: row.tierGraceDays,
  updatedAt: row.updatedAt.toISOString(),
});

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
    private readonly holdout: ProgrammeHoldoutReader,
  ) {}

  /**
   * Applies a batch of activities: an `Order Completed` earns once per order (`order:<order_id>`, or
   * `event:<messageId>` without an id), other events their bonuses, identify calls keep birthdays, and
   * an `Order Refunded` claws back its share once per refund event, each in the order they came. A
   * replay, a redelivery or the same order sent twice changes nothing more.
   */
  async earnFromActivities(messages: ActivityMessage[]): Promise<number> {
    let applied = 0;
    let earnable: ProfileActivityV1[] = [];
    // Consecutive activities earn in one transaction; a refund waits for the orders before it.
    const flush = async () => {
      if (earnable.length > 0) applied += await this.earnAll(earnable);
      earnable = [];
    };
    for (const { data } of messages) {
      if (data.type === 'track' && data.name === 'Order Refunded') {
        await flush();
        if (await this.clawBack(data)) applied += 1;
      } else if (data.type === 'track' || data.type === 'identify') earnable.push(data);
    }
    await flush();
    if (applied > 0) this.outbox.wake();
    return applied;
  }

  /**
   * Activities earn in one transaction: orders by the rates and multipliers, bonuses for events and
   * first orders, and birthdays kept for the birthday bonus. The rules, the programme and the tiers
   * are read once, the customers' segments and the day's earnings in one statement each, then one
   * INSERT of ledger entries, one UPDATE of the accounts, one of lots, one of outbox rows. What the
   * ledger holds already (a replay) is skipped before anything is computed for it.
   */
  private async earnAll(activities: ProfileActivityV1[]): Promise<number> {
    return this.repository.transaction(async (tx) => {
      const keyed = await this.repository.activeEarnRules(tx);
      if (keyed.length === 0) return 0;
      const rules = keyed.map((r) => r.rule);
      const program = await this.repository.program(tx);
      const now = new Date();
      await this.keepBirthdays(tx, activities, rules);
      const orders = activities.flatMap((data) => {
        if (data.type !== 'track' || data.name !== 'Order Completed') return [];
        const order = orderFromProperties(data.properties);
        if (!order) this.logger.warn(`Order Completed ${data.eventId} of ${data.profileId} has no amount to earn on; skipped`);
        return order ? [{ data, order, cause: order.orderId === null ? `event:${data.eventId}` : `order:${order.orderId}` }] : [];
      });
      const bonuses = activities.flatMap((data) => bonusesFor(data, keyed).map((bonus) => ({ data, bonus })));
      const known = await this.repository.existingCauses(tx, 'earn', [...orders.map((o) => o.cause), ...bonuses.map((b) => b.bonus.cause)]);
      const freshOrders = orders.filter((o) => !known.has(o.cause));
      const freshBonuses = bonuses.filter((b) => !known.has(b.bonus.cause));
      if (freshOrders.length === 0 && freshBonuses.length === 0) return 0;
      const profileIds = [...new Set([...freshOrders, ...freshBonuses].map((o) => o.data.profileId))];
      const segments = rules.some((r) => r.type === 'segment_multiplier') ? await this.repository.segmentsOf(tx, profileIds) : new Map<string, Set<string>>();
      // The programme holdout (issue 22): base earning only, no multipliers, bonuses or offers' extra points.
      const heldOut = await this.holdout.heldOut(profileIds, tx);
      const baseRules = rules.filter((r) => r.type === 'base');
      const earnedToday = program.capPerDay === null ? new Map<string, number>() : await this.repository.earnedSince(tx, profileIds, new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS));
      const planned: Array<{ entry: NewPointsEntry; lot: Omit<NewPointLot, 'entryId'> }> = [];
      const causes = new Set<string>();
      // An order's points, and extra points for it, wait for its return window; a bonus is available at once.
      const plan = (data: ProfileActivityV1, cause: string, wanted: number, details: Record<string, unknown>, order: OrderForEarning | null, waits = order !== null) => {
        if (causes.has(cause)) return;
        causes.add(cause);
        const today = earnedToday.get(data.profileId) ?? 0;
        const points = withinDailyCap(wanted, today, program.capPerDay);
        if (points <= 0) return;
        earnedToday.set(data.profileId, today + points);
        const earnedAt = new Date(data.occurredAt);
        const availableAt = waits ? new Date(earnedAt.getTime() + program.returnWindowDays * DAY_MS) : earnedAt;
        const released = availableAt.getTime() <= now.getTime();
        planned.push({
          entry: {
            profileId: data.profileId,
            kind: 'earn',
            availableDelta: released ? points : 0,
            pendingDelta: released ? 0 : points,
            cause,
            orderId: order?.orderId ?? null,
            details: { ...details, cappedPerDay: points < wanted ? program.capPerDay : null },
          },
          lot: {
            profileId: data.profileId,
            orderId: order?.orderId ?? null,
            orderAmount: order?.revenue ?? null,
            orderCurrency: order?.currency ?? null,
            earnedAt,
            availableAt,
            expiresAt: expiryOf(earnedAt, program),
            points,
            released,
          },
        });
      };
      const multipliers = await this.repository.takeOrderMultipliers(
        tx,
        freshOrders.flatMap((o) => (o.order.orderId === null ? [] : [o.order.orderId])),
      );
      for (const { data, order, cause } of freshOrders) {
        const held = heldOut.has(data.profileId);
        const earning = pointsForOrder(order, held ? baseRules : rules, (s) => segments.get(data.profileId)?.has(s) === true, program.capPerOrder);
        plan(data, cause, earning.points, held ? { ...earning.details, programmeHoldout: true } : earning.details, order);
        if (held) continue;
        // A points_multiplier offer redeemed for this order: the extra points are the redemption's own entry.
        for (const m of multipliers.filter((x) => x.orderId === order.orderId))
          plan(data, `offer:${m.redemptionId}`, Math.floor(earning.points * (m.multiplier - 1) + 1e-9), { offerMultiplier: m.multiplier, orderPoints: earning.points }, null, true);
      }
      for (const { data, bonus } of freshBonuses) if (!heldOut.has(data.profileId)) plan(data, bonus.cause, bonus.points, { bonus: bonus.ruleKey, event: data.name }, null);
      return (await this.appendWithLots(tx, planned, program, now)).length;
    });
  }

  /** Entries and their lots, then the tiers of the customers they moved. */
  private async appendWithLots(tx: OffersTx, planned: Array<{ entry: NewPointsEntry; lot: Omit<NewPointLot, 'entryId'> }>, program: LoyaltyProgramRow, now: Date): Promise<AppendedEntry[]> {
    const appended = await this.appendAll(
      tx,
      planned.map((p) => p.entry),
    );
    const lotOf = new Map(planned.map((p) => [p.entry.cause, p.lot]));
    await this.repository.addLots(
      tx,
      appended.map((a) => ({ ...(lotOf.get(a.entry.cause) as Omit<NewPointLot, 'entryId'>), entryId: a.entry.id })),
    );
    await this.reviewTiers(tx, [...new Set(appended.map((a) => a.entry.profileId))], program, now, false);
    return appended;
  }

  /** Birthdays from identify traits, kept only while a birthday_bonus rule is active (the trait it names). */
  private async keepBirthdays(tx: OffersTx, activities: ProfileActivityV1[], rules: EarnRuleDefinition[]): Promise<void> {
    const traits = rules.flatMap((r) => (r.type === 'birthday_bonus' ? [r.trait] : []));
    if (traits.length === 0) return;
    const birthdays = new Map<string, string>();
    for (const data of activities) {
      if (data.type !== 'identify') continue;
      for (const trait of traits) {
        const birthday = birthdayOf(data.traits?.[trait]);
        if (birthday !== null) birthdays.set(data.profileId, birthday);
      }
    }
    await this.repository.setBirthdays(
      tx,
      [...birthdays].map(([profile_id, birthday]) => ({ profile_id, birthday })),
    );
  }

  /** The birthday bonus of every active birthday_bonus rule, to customers whose birthday is today (UTC), once a year. */
  async awardBirthdays(now = new Date()): Promise<number> {
    const program = await this.repository.program();
    const monthDay = now.toISOString().slice(5, 10);
    const year = now.getUTCFullYear();
    let total = 0;
    // Held out of the programme (issue 22): no birthday bonus; passed over by later batches.
    const passedOver: string[] = [];
    for (const { key, rule } of await this.repository.transaction((tx) => this.repository.activeEarnRules(tx))) {
      if (rule.type !== 'birthday_bonus') continue;
      const causeOf = (profileId: string) => `birthday:${key}:${year}:${profileId}`;
      total += await this.inBatches(async (tx) => {
        const due = await this.repository.birthdaysDue(tx, monthDay, causeOf, BATCH, passedOver);
        const heldOut = await this.holdout.heldOut(due, tx);
        passedOver.push(...heldOut);
        const planned = due
          .filter((profileId) => !heldOut.has(profileId))
          .map((profileId) => ({
            entry: { profileId, kind: 'earn' as const, availableDelta: rule.points, pendingDelta: 0, cause: causeOf(profileId), details: { bonus: key, birthday: monthDay } },
            lot: lotAvailableAt(profileId, now, rule.points, program),
          }));
        await this.appendWithLots(tx, planned, program, now);
        return due.length;
      });
    }
    return total;
  }

  /**
   * An `Order Refunded` (whole, or partial with `total`/`revenue`/products) claws back the refunded
   * share of the points that order earned: from its pending points, or from its unspent points and
   * then, for points of it already spent, from the rest of the available balance as far as that
   * goes. What the balance cannot cover is recorded in the entry (`unrecovered`), never a negative
   * balance. An order that earned nothing here (unknown, or no rule) has nothing to claw back.
   */
  private async clawBack(data: ProfileActivityV1): Promise<boolean> {
    const orderId = orderFromProperties({ ...data.properties, revenue: 0 })?.orderId ?? null;
    if (orderId === null) return false;
    const refund = orderFromProperties(data.properties);
    // Only a refund that names an amount is partial; the whole order otherwise.
    const amount = refund !== null && ['total', 'revenue', 'subtotal', 'products'].some((k) => data.properties[k] !== undefined) ? refund.revenue : null;
    return this.repository.transaction(async (tx) => {
      const lot = await this.repository.lotOfOrder(tx, orderId);
      if (!lot) return false;
      const claw = clawbackFor(lot, amount);
      const cause = `refund:${data.eventId}`;
      if (claw.points === 0) {
        await this.repository.updateLot(tx, lot.entryId, { points: lot.points, remaining: lot.remaining, refundedAmount: claw.refundedAmount });
        return false;
      }
      if (!(await this.takeBack(tx, lot, claw, cause, orderId, { refundedAmount: claw.refundedAmount, orderAmount: lot.orderAmount }))) return false;
      await this.reviewTiers(tx, [lot.profileId], await this.repository.program(tx), new Date(), false);
      return true;
    });
  }

  /**
   * The tiers customers hold after a change of what they earned (`reviewDue` false: only
   * upgrades), or at their review (a downgrade too, when they no longer qualify). Each move is
   * published as loyalty.tier_changed in the caller's transaction.
   */
  private async reviewTiers(tx: OffersTx, profileIds: string[], program: LoyaltyProgramRow, now: Date, reviewDue: boolean): Promise<void> {
    if (profileIds.length === 0) return;
    const tiers = await this.repository.tiers(tx);
    if (tiers.length === 0 && !reviewDue) return;
    const held = await this.repository.tiersOf(tx, profileIds);
    const qualifications = await this.repository.qualifications(profileIds, new Date(now.getTime() - program.tierWindowDays * DAY_MS), tx);
    const nextReview = new Date(now.getTime() + program.tierWindowDays * DAY_MS);
    const changes: LoyaltyTierChangedV1[] = [];
    for (const profileId of profileIds) {
      const from = held.get(profileId) ?? null;
      const move = tierMove(tiers, from, qualifications.get(profileId) ?? { points: 0, spend: new Map() }, reviewDue);
      if (!move.changed) {
        if (reviewDue) await this.repository.setReview(tx, profileId, nextReview);
        continue;
      }
      await this.repository.setTier(tx, profileId, move.to, now, move.to === null ? null : nextReview);
      changes.push({ profileId, from, to: move.to, direction: rankOf(tiers, move.to) > rankOf(tiers, from) ? 'upgrade' : 'downgrade', at: now.toISOString() });
    }
    if (changes.length > 0)
      await this.outbox.write(
        tx,
        changes.map((data) => ({ subject: SUBJECTS.loyaltyTierChanged, envelope: createEnvelope(SUBJECTS.loyaltyTierChanged, data, { occurredAt: now }), partitionKey: data.profileId })),
      );
  }

  /** Moves pending points whose return window has passed to available (the job; a customer's read does it for theirs). */
  async releaseDue(now = new Date(), profileId?: string): Promise<number> {
    return this.inBatches(async (tx) => {
      const due = await this.repository.dueLots(tx, now, BATCH, profileId);
      for (const lot of due) {
        if (lot.remaining > 0) await this.append(tx, { profileId: lot.profileId, kind: 'release', availableDelta: lot.remaining, pendingDelta: -lot.remaining, cause: `release:${lot.entryId}` });
        await this.repository.markReleased(tx, lot.entryId);
      }
      return due.length;
    });
  }

  /** Expires what is left of lots past their expiry, oldest first (the job; a customer's read does it for theirs). */
  async expireDue(now = new Date(), profileId?: string): Promise<number> {
    return this.inBatches(async (tx) => {
      const due = await this.repository.expiredLots(tx, now, BATCH, profileId);
      for (const lot of due) {
        await this.append(tx, {
          profileId: lot.profileId,
          kind: 'expire',
          availableDelta: -lot.remaining,
          pendingDelta: 0,
          cause: `expire:${lot.entryId}`,
          details: { earnedAt: lot.earnedAt.toISOString(), expiresAt: lot.expiresAt?.toISOString() },
        });
        await this.repository.expireLot(tx, lot.entryId);
      }
      return due.length;
    });
  }

  /** Publishes loyalty.points_expiring once for each lot that expires within the notice period. */
  async announceExpiring(now = new Date()): Promise<number> {
    const program = await this.repository.program();
    if (program.expireAfterDays === null) return 0;
    const until = new Date(now.getTime() + program.expiringNoticeDays * DAY_MS);
    return this.inBatches(async (tx) => {
      const lots = await this.repository.takeExpiryNotices(tx, now, until, BATCH);
      if (lots.length > 0)
        await this.outbox.write(
          tx,
          lots.map((lot) => {
            const data: LoyaltyPointsExpiringV1 = { profileId: lot.profileId, points: Number(lot.remaining), expiresAt: new Date(lot.expiresAt as Date).toISOString() };
            return {
              subject: SUBJECTS.loyaltyPointsExpiring,
              envelope: createEnvelope(SUBJECTS.loyaltyPointsExpiring, data, { id: `expiring-${lot.entryId}`, occurredAt: now }),
              partitionKey: lot.profileId,
            };
          }),
        );
      return lots.length;
    });
  }

  /** Reviews the tiers whose review date and grace period have passed: kept if still earned, else lowered. */
  async reviewTiersDue(now = new Date()): Promise<number> {
    const program = await this.repository.program();
    return this.inBatches(async (tx) => {
      const due = await this.repository.dueForReview(tx, new Date(now.getTime() - program.tierGraceDays * DAY_MS), BATCH);
      await this.reviewTiers(
        tx,
        due.map((account) => account.profileId),
        program,
        now,
        true,
      );
      return due.length;
    });
  }

  /** Runs `work` in transactions until one handles less than a batch; wakes the relay if anything changed. */
  private async inBatches(work: (tx: OffersTx) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.repository.transaction(work);
      total += n;
      if (n < BATCH) break;
    }
    if (total > 0) this.outbox.wake();
    return total;
  }

  /**
   * An offer's points reward, in the redemption's transaction (issue 19): bonus_points are credited
   * at once; a points_multiplier multiplies the points of the redemption's order (the extra is
   * credited now if the order has earned, else when it does; without an order id there is nothing to
   * multiply). Both are the redemption's own entry (`offer:<redemption id>`), which a cancel reverses.
   */
  async creditOfferReward(tx: OffersTx, redemption: { id: string; profileId: string; orderId: string | null; offerKey: string; reward: OfferReward }): Promise<void> {
    const { reward } = redemption;
    if (reward.type !== 'bonus_points' && reward.type !== 'points_multiplier') return;
    const program = await this.repository.program(tx);
    const now = new Date();
    const cause = `offer:${redemption.id}`;
    const details = { offer: redemption.offerKey, redemptionId: redemption.id };
    if (reward.type === 'bonus_points') {
      const lot = lotAvailableAt(redemption.profileId, now, reward.points, program);
      await this.appendWithLots(
        tx,
        [{ entry: { profileId: redemption.profileId, kind: 'earn', availableDelta: reward.points, pendingDelta: 0, cause, orderId: redemption.orderId, details }, lot }],
        program,
        now,
      );
      return;
    }
    if (redemption.orderId === null) return;
    const orderLot = await this.repository.lotOfOrder(tx, redemption.orderId);
    if (!orderLot) {
      await this.repository.addOrderMultiplier(tx, { redemptionId: redemption.id, orderId: redemption.orderId, profileId: redemption.profileId, multiplier: reward.multiplier });
      return;
    }
    const extra = Math.floor(orderLot.points * (reward.multiplier - 1) + 1e-9);
    if (extra <= 0) return;
    const released = orderLot.released;
    const lot = {
      profileId: orderLot.profileId,
      orderId: null,
      orderAmount: null,
      orderCurrency: null,
      earnedAt: orderLot.earnedAt,
      availableAt: orderLot.availableAt,
      expiresAt: orderLot.expiresAt,
      points: extra,
      released,
    };
    const entry: NewPointsEntry = {
      profileId: orderLot.profileId,
      kind: 'earn',
      availableDelta: released ? extra : 0,
      pendingDelta: released ? 0 : extra,
      cause,
      orderId: redemption.orderId,
      details: { ...details, offerMultiplier: reward.multiplier, orderPoints: orderLot.points },
    };
    await this.appendWithLots(tx, [{ entry, lot }], program, now);
  }

  /** A cancelled redemption's points reward taken back (its lot first, then the balance as far as it goes), or its waiting multiplier dropped. */
  async reverseOfferReward(tx: OffersTx, redemptionId: string): Promise<void> {
    await this.repository.dropOrderMultiplier(tx, redemptionId);
    const credited = await this.repository.entryByCause(tx, 'earn', `offer:${redemptionId}`);
    if (!credited) return;
    const lot = await this.repository.lotOfEntry(tx, credited.id);
    if (!lot || lot.points === 0) return;
    await this.takeBack(tx, lot, clawbackFor({ ...lot, orderAmount: null, refundedAmount: 0 }, null), `cancel:${redemptionId}`, credited.orderId, { redemptionId });
  }

  /**
   * Takes back a lot's points (a refund's share, a cancelled offer's): pending ones from pending,
   * unspent ones from the lot, and for spent ones from the rest of the available balance as far as
   * it goes; what it cannot cover is recorded as unrecovered. false: the cause was applied before.
   */
  private async takeBack(tx: OffersTx, lot: PointLotRow, claw: Clawback, cause: string, orderId: string | null, details: Record<string, unknown>): Promise<boolean> {
    const account = await this.repository.account(lot.profileId, tx);
    const fromBalance = Math.min(claw.fromBalance, Math.max(0, (account?.available ?? 0) - claw.fromLot));
    const entry = await this.append(tx, {
      profileId: lot.profileId,
      kind: 'clawback',
      availableDelta: -(claw.fromLot + fromBalance),
      pendingDelta: -claw.fromPending,
      cause,
      orderId,
      lifetimeDelta: -claw.points,
      details: { ...details, points: claw.points, fromPending: claw.fromPending, fromUnspent: claw.fromLot, fromBalance, unrecovered: claw.fromBalance - fromBalance },
    });
    if (!entry) return false;
    await this.repository.updateLot(tx, lot.entryId, { points: lot.points - claw.points, remaining: lot.remaining - claw.fromPending - claw.fromLot, refundedAmount: claw.refundedAmount });
    if (fromBalance > 0) await this.repository.consumeOldestFirst(tx, lot.profileId, fromBalance);
    return true;
  }

  /** A customer's tier (null: none), for offers' eligibility by tier (an upgrade counts at once). */
  async tierOf(profileId: string, tx: OffersTx): Promise<string | null> {
    return (await this.repository.tiersOf(tx, [profileId])).get(profileId) ?? null;
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
    const keyProblem = idempotencyKeyProblem(idempotencyKey);
    if (keyProblem !== null) throw ValidationFailedError.of([keyProblem]);
    const cause = `request:${idempotencyKey as string}`;
    try {
      const answer = await this.repository.transaction(async (tx): Promise<PointsChangeAnswer> => {
        const appended = await this.append(tx, { ...change, kind, cause });
        if (appended) {
          // A spend takes the oldest points first; points given by hand are a lot of their own, which expires like an order's.
          if (change.availableDelta < 0) await this.repository.consumeOldestFirst(tx, change.profileId, -change.availableDelta);
          else {
            const now = appended.entry.at;
            const program = await this.repository.program(tx);
            await this.repository.addLots(tx, [{ ...lotAvailableAt(change.profileId, now, change.availableDelta, program), entryId: appended.entry.id }]);
            // Points given by hand count towards tiers like earned ones, and upgrade at once too.
            await this.reviewTiers(tx, [change.profileId], program, now, false);
          }
          return { status: 201, body: { ...entryView(appended.entry), available: appended.available, pending: appended.pending }, replayed: false };
        }
        const first = (await this.repository.entryByCause(tx, kind, cause)) as PointsEntryRow;
        const sameBody =
          first.profileId === change.profileId && first.availableDelta === change.availableDelta && first.orderId === (change.orderId ?? null) && first.reason === (change.reason ?? null);
        // 422, as POST /v1/redemptions answers it (the IETF Idempotency-Key draft): resending can never succeed.
        if (!sameBody)
          throw new UnprocessableEntityException({
            statusCode: 422,
            error: 'Unprocessable Entity',
            message: `Idempotency-Key ${idempotencyKey as string} was used for a different request; use a new key for a new request`,
            details: [{ field: 'Idempotency-Key', problem: 'already used with a different body' }],
          });
        const account = await this.repository.account(first.profileId, tx);
        return { status: 201, body: { ...entryView(first), available: account?.available ?? 0, pending: account?.pending ?? 0 }, replayed: true };
      });
      this.outbox.wake();
      return answer;
    } catch (error) {
      if (sqlState(error) !== CHECK_VIOLATION) throw error;
      const account = await this.repository.account(change.profileId);
      const available = account?.available ?? 0;
      throw new ConflictError(`Not enough points: ${-change.availableDelta} asked, ${available} available`, [
        { field: 'points', problem: `exceeds the available balance (${available}${account && account.pending > 0 ? `; ${account.pending} more are pending` : ''})` },
      ]);
    }
  }

  /** Appends an entry and its loyalty.points message, in the caller's transaction. */
  private async append(tx: OffersTx, entry: NewPointsEntry): Promise<AppendedEntry | undefined> {
    return (await this.appendAll(tx, [entry]))[0];
  }

  /** Appends entries (replays skipped) and their loyalty.points messages, in the caller's transaction. */
  private async appendAll(tx: OffersTx, entries: NewPointsEntry[]): Promise<AppendedEntry[]> {
    const appended = await this.repository.appendMany(tx, entries);
    if (appended.length > 0)
      await this.outbox.write(
        tx,
        appended.map(({ entry: e, available, pending }) => {
          const data: LoyaltyPointsChangedV1 = {
            profileId: e.profileId,
            entryId: e.id,
            kind: e.kind,
            availableDelta: e.availableDelta,
            pendingDelta: e.pendingDelta,
            available,
            pending,
            cause: e.cause,
            orderId: e.orderId,
            at: e.at.toISOString(),
          };
          return { subject: SUBJECTS.loyaltyPoints, envelope: createEnvelope(SUBJECTS.loyaltyPoints, data, { id: `points-${e.id}`, occurredAt: e.at }), partitionKey: e.profileId };
        }),
      );
    return appended;
  }

  /** A customer's loyalty: balances (after releasing what is due), pending points and a page of the history, newest first. */
  async customer(profileId: string, query: LoyaltyHistoryQueryDto) {
    if (!isUuid(profileId)) throw ValidationFailedError.of([{ field: 'id', problem: 'must be a profile id (a UUID)' }]);
    const id = profileId.toLowerCase();
    const before = query.cursor === undefined ? null : Number(query.cursor);
    if (before !== null && !(Number.isSafeInteger(before) && before > 0)) throw ValidationFailedError.of([{ field: 'cursor', problem: 'must be the nextCursor of the previous page' }]);
    const now = new Date();
    await this.releaseDue(now, id);
    await this.expireDue(now, id);
    const limit = query.limit ?? 50;
    const program = await this.repository.program();
    const [account, pending, expiring, entries, tiers, qualification] = await Promise.all([
      this.repository.account(id),
      this.repository.pendingLotsOf(id),
      this.repository.expiringOf(id, new Date(now.getTime() + program.expiringNoticeDays * DAY_MS)),
      this.repository.history(id, limit + 1, before),
      this.repository.tiers(),
      this.repository.qualification(id, new Date(now.getTime() - program.tierWindowDays * DAY_MS)),
    ]);
    const page = entries.slice(0, limit);
    const held = tiers.find((t) => t.key === account?.tier) ?? null;
    const next = tiers.find((t) => t.rank > rankOf(tiers, held?.key ?? null)) ?? null;
    return {
      profileId: id,
      available: account?.available ?? 0,
      pending: account?.pending ?? 0,
      lifetimeEarned: account?.lifetimeEarned ?? 0,
      tier: held && { key: held.key, name: held.name, since: account?.tierSince?.toISOString() ?? null, reviewAt: account?.tierReviewAt?.toISOString() ?? null },
      nextTier: next && {
        key: next.key,
        name: next.name,
        pointsToGo: next.minPoints === null ? null : Math.max(0, next.minPoints - qualification.points),
        spendToGo:
          next.minSpend === null || next.spendCurrency === null ? null : { amount: Math.max(0, next.minSpend - (qualification.spend.get(next.spendCurrency) ?? 0)), currency: next.spendCurrency },
      },
      qualifying: { windowDays: program.tierWindowDays, points: qualification.points, spend: Object.fromEntries(qualification.spend) },
      pendingPoints: pending.map((p) => ({ points: p.points, availableAt: p.availableAt.toISOString() })),
      expiringSoon: expiring.map((p) => ({ points: p.points, expiresAt: (p.expiresAt as Date).toISOString() })),
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
    return programView(
      await this.repository.updateProgram({
        returnWindowDays: body.returnWindowDays,
        capPerOrder: body.capPerOrder ?? null,
        capPerDay: body.capPerDay ?? null,
        expireAfterDays: body.expireAfterDays ?? null,
        expiringNoticeDays: body.expiringNoticeDays ?? 30,
        tierWindowDays: body.tierWindowDays ?? 365,
        tierGraceDays: body.tierGraceDays ?? 30,
      }),
    );
  }

  async listTiers() {
    return { tiers: (await this.repository.tiers()).map(tierView) };
  }

  async tier(key: string) {
    const row = (await this.repository.tiers()).find((t) => t.key === key);
    if (!row) throw new NotFoundError(`No tier ${key}`);
    return tierView(row);
  }

  /** Creates or replaces a tier (customers move with their next earning or review). */
  async putTier(key: string, body: TierDto) {
    if (!OFFER_KEY.test(key) || key.length > 100) throw ValidationFailedError.of([{ field: 'key', problem: 'must be 1–100 lower-case letters, digits and hyphens, starting with a letter or digit' }]);
    try {
      return tierView(
        await this.repository.upsertTier({
          key,
          name: body.name,
          rank: body.rank,
          minPoints: body.minPoints ?? null,
          minSpend: body.minSpend?.amount ?? null,
          spendCurrency: body.minSpend?.currency ?? null,
        }),
      );
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) throw new ConflictError(`Another tier has rank ${body.rank}`, [{ field: 'rank', problem: 'is held by another tier' }]);
      throw error;
    }
  }

  async deleteTier(key: string): Promise<void> {
    if (!(await this.repository.deleteTier(key))) throw new NotFoundError(`No tier ${key}`);
  }
}

/** A lot of points spendable at once (a bonus, points given by hand), from `at`, expiring under the programme. */
function lotAvailableAt(profileId: string, at: Date, points: number, program: LoyaltyProgramRow): Omit<NewPointLot, 'entryId'> {
  return { profileId, orderId: null, orderAmount: null, orderCurrency: null, earnedAt: at, availableAt: at, expiresAt: expiryOf(at, program), points, released: true };
}

/** When points earned at `earnedAt` expire under the programme (null: never). */
function expiryOf(earnedAt: Date, program: LoyaltyProgramRow): Date | null {
  return program.expireAfterDays === null ? null : new Date(earnedAt.getTime() + program.expireAfterDays * DAY_MS);
}

const tierView = (row: TierRow) => ({
  key: row.key,
  name: row.name,
  rank: row.rank,
  minPoints: row.minPoints,
  minSpend: row.minSpend === null ? null : { amount: row.minSpend, currency: row.spendCurrency },
  updatedAt: row.updatedAt.toISOString(),
});

const UNIQUE_VIOLATION = '23505';
