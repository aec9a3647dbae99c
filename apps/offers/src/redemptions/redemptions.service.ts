import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError, NotFoundError, ValidationFailedError, toApiError } from '@segmenta/chassis';
import { SUBJECTS, type ApiErrorDetail, type OfferRedeemedV1, type OfferRewardType } from '@segmenta/contracts';
import { Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { sqlState } from '@segmenta/persistence';
import { normalizeCode } from '../catalog/coupon-codes';
import type { OfferBudget } from '../catalog/offer-rules';
import { OFFER_KEY, perCustomerLimitOf } from '../catalog/offers.dto';
import type { OfferRow, OffersTx } from '../catalog/offers.repository';
import { LoyaltyService } from '../loyalty/loyalty.service';
import { RedemptionEligibility } from './redemption-eligibility';
import { idempotencyKeyProblem, isUuid, budgetUnits, limitWindowStart, requestFingerprint, rewardValue, type Outcome } from './redemption-rules';
import { toRedemptionResponse, type ListRedemptionsQueryDto, type RedeemDto, type RedemptionResponse } from './redemptions.dto';
import { RedemptionsRepository, type RedemptionRow } from './redemptions.repository';

/** The answer to POST /v1/redemptions: what the first request with its Idempotency-Key was answered. */
export interface RedemptionAnswer {
  status: number;
  body: Record<string, unknown>;
  /** True when this is the stored answer of an earlier request with the same key. */
  replayed: boolean;
}

/**
 * A refusal of a redemption: 409 when the state of the offer, the budget, the code or the
 * customer's uses forbids it (the same body may pass later or elsewhere), 422 when the body can
 * never fit this offer (a wrong code, a wrong currency). Caught inside the service, never thrown out.
 */
class RedemptionRefused extends DomainError {
  readonly kind = 'conflict';

  constructor(
    message: string,
    details: ApiErrorDetail[],
    readonly status: 409 | 422,
  ) {
    super(message, details);
  }
}

/** SQLSTATE of the commit-time budget take's refusal (migration 0008). */
const BUDGET_REFUSED = 'SB001';

/** What the transaction learnt before its commit, for wording a refusal of the budget. */
interface RedemptionAttempt {
  offer?: OfferRow;
  units?: number;
}

/** Only the service's own decisions are answers to keep; an outage or a bug rolls everything back. */
const isStoredRefusal = (error: unknown): error is DomainError => error instanceof DomainError && error.kind !== 'unavailable' && error.kind !== 'too_many_requests';

const REASON: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Entity' };

const refuse = (status: 409 | 422, message: string, field: string, problem: string) => new RedemptionRefused(message, [{ field, problem }], status);

function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new RedemptionRefused(outcome.message, outcome.details, outcome.status);
  return outcome.value;
}

/** Redemptions: race-free budgets, per-customer limits and single-use codes in one transaction each (ADR 20). */
@Injectable()
export class RedemptionsService {
  constructor(
    private readonly repository: RedemptionsRepository,
    private readonly eligibility: RedemptionEligibility,
    private readonly outbox: Outbox,
    private readonly loyalty: LoyaltyService,
  ) {}

  /**
   * Redeems once per Idempotency-Key. The key is claimed first in the transaction. Every refusal but
   * one comes before the redemption writes anything, and is stored as the key's answer in the same
   * transaction. The budget is taken at COMMIT (a deferred constraint trigger, migration 0008): its
   * refusal fails the commit, the whole transaction rolls back and the refusal is stored in one of
   * its own. A retry with the same key and body gets the stored answer again. (A savepoint around the
   * checks cost budgeted redemptions a third of their throughput, and the budget taken by the
   * service's last statement held the offer's row across a turn of its event loop: BENCHMARKS.md.)
   */
  async redeem(idempotencyKey: string | undefined, body: RedeemDto): Promise<RedemptionAnswer> {
    const keyProblem = idempotencyKeyProblem(idempotencyKey);
    if (keyProblem !== null || idempotencyKey === undefined) throw ValidationFailedError.of([keyProblem as ApiErrorDetail]);
    const fingerprint = requestFingerprint(body);
    let answer: RedemptionAnswer;
    const attempt: RedemptionAttempt = {};
    try {
      answer = await this.repository.transaction(async (tx): Promise<RedemptionAnswer> => {
        if (!(await this.repository.claimRequest(tx, idempotencyKey, fingerprint))) return this.storedAnswer(tx, idempotencyKey, fingerprint);
        try {
          const redemption = await this.redeemIn(tx, idempotencyKey, body, attempt);
          return { status: 201, body: { ...redemption }, replayed: false };
        } catch (error) {
          if (!isStoredRefusal(error)) throw error;
          const refusal = refusalAnswer(error);
          await this.repository.settleRequest(tx, idempotencyKey, { statusCode: refusal.status, response: refusal.body, redemptionId: null });
          return { ...refusal, replayed: false };
        }
      });
    } catch (error) {
      if (sqlState(error) !== BUDGET_REFUSED || !attempt.offer) throw error;
      answer = await this.storeRefusal(idempotencyKey, fingerprint, refusalAnswer(await this.budgetRefusal(attempt.offer, attempt.units ?? 0)));
    }
    if (answer.status === 201 && !answer.replayed) this.outbox.wake();
    return answer;
  }

  /** A refusal after the rollback of the redemption's writes, unless a request with the same key was answered meanwhile. */
  private storeRefusal(idempotencyKey: string, fingerprint: string, refusal: { status: number; body: Record<string, unknown> }): Promise<RedemptionAnswer> {
    return this.repository.transaction(async (tx) => {
      if (!(await this.repository.claimRequest(tx, idempotencyKey, fingerprint, { statusCode: refusal.status, response: refusal.body }))) return this.storedAnswer(tx, idempotencyKey, fingerprint);
      return { ...refusal, replayed: false };
    });
  }

  /** Why the commit's budget take refused, in the words of the other refusals. */
  private async budgetRefusal(offer: OfferRow, units: number): Promise<DomainError> {
    const current = await this.repository.offerKeyExists(offer.key);
    if (!current || current.status !== 'active') return refuse(409, `Offer "${offer.key}" is ${current?.status ?? 'gone'}; only active offers can be redeemed`, 'offerKey', 'offer not active');
    const unit = offer.budgetKind === 'amount' ? ` minor units of ${offer.budgetCurrency}` : ' redemptions';
    return refuse(409, `Offer "${offer.key}" has used ${current.budgetUsed} of its budget of ${current.budgetTotal}${unit}; this redemption needs ${units}`, 'budget', 'budget exhausted');
  }

  private async storedAnswer(tx: OffersTx, idempotencyKey: string, fingerprint: string): Promise<RedemptionAnswer> {
    const first = await this.repository.request(tx, idempotencyKey);
    if (!first) throw new Error(`idempotency key ${idempotencyKey} claimed and not found`);
    if (first.fingerprint !== fingerprint) return keyReused(idempotencyKey);
    return { status: first.statusCode, body: first.response, replayed: true };
  }

  async get(id: string): Promise<RedemptionResponse> {
    const row = isUuid(id) ? await this.repository.byId(id) : undefined;
    if (!row) throw redemptionNotFound(id);
    return toRedemptionResponse(row);
  }

  /**
   * An order returned: the redemption is cancelled, its budget units go back to the offer and it no
   * longer counts against the customer's limit. A unique code stays redeemed (it was handed over and
   * used; reissuing it would let one code be used twice). A second cancel changes nothing and
   * answers the same.
   */
  async cancel(id: string): Promise<RedemptionResponse> {
    if (!isUuid(id)) throw redemptionNotFound(id);
    const row = await this.repository.transaction(async (tx) => {
      const redemption = await this.repository.lockById(tx, id);
      if (!redemption) throw redemptionNotFound(id);
      if (redemption.status === 'cancelled') return redemption;
      const cancelled = await this.repository.markCancelled(tx, id, new Date());
      await this.repository.giveBackBudget(tx, redemption.offerId, redemption.budgetKind, redemption.budgetUnits);
      await this.loyalty.reverseOfferReward(tx, id);
      return cancelled;
    });
    this.outbox.wake();
    return toRedemptionResponse(row);
  }

  async listForOffer(key: string, query: ListRedemptionsQueryDto): Promise<{ redemptions: RedemptionResponse[]; nextCursor: string | null }> {
    if (query.cursor !== undefined && !/^[1-9]\d{0,15}$/.test(query.cursor)) throw ValidationFailedError.of([{ field: 'cursor', problem: 'invalid' }]);
    const offer = key.length <= 100 && OFFER_KEY.test(key) ? await this.repository.offerKeyExists(key) : undefined;
    if (!offer) throw new NotFoundError(`No offer "${key}"`, [{ field: 'key', problem: 'not found' }]);
    const limit = query.limit ?? 100;
    const rows = await this.repository.list(offer.id, { status: query.status, beforeSeq: query.cursor === undefined ? undefined : Number(query.cursor), limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { redemptions: page.map(toRedemptionResponse), nextCursor: rows.length > limit ? String(page[page.length - 1].seq) : null };
  }

  /**
   * Every check and change of one redemption; a refusal here has written nothing (the code's
   * conditional UPDATE writes only when it succeeds). Locks are taken in one order — the customer's,
   * the code's row, then at commit the offer's row — so concurrent redemptions queue and never
   * deadlock, and the offer's row (the hottest) is held only by the commit itself.
   */
  private async redeemIn(tx: OffersTx, idempotencyKey: string, body: RedeemDto, attempt: RedemptionAttempt): Promise<RedemptionResponse> {
    const offer = await this.repository.offerByKey(tx, body.offerKey);
    if (!offer) throw new NotFoundError(`No offer "${body.offerKey}"`, [{ field: 'offerKey', problem: 'not found' }]);
    const now = new Date();
    assertRedeemableNow(offer, now);
    const code = this.checkCode(offer, body.code);
    const order = body.orderAmount ? { amount: body.orderAmount.amount, currency: body.orderAmount.currency } : undefined;
    const value = unwrap(rewardValue(offer.reward, order));
    const units = unwrap(budgetUnits(budgetOf(offer), offer.reward, value));
    Object.assign(attempt, { offer, units });

    const verdict = await this.eligibility.check(tx, offer, body.profileId);
    if (!verdict.eligible) throw refuse(409, `Customer ${body.profileId} may not redeem offer "${offer.key}": ${verdict.problem}`, 'profileId', `not eligible: ${verdict.problem}`);

    const limit = perCustomerLimitOf(offer);
    if (limit !== null) {
      await this.repository.lockCustomer(tx, offer.id, body.profileId);
      const uses = await this.repository.countUses(tx, offer.id, body.profileId, limitWindowStart(limit, now));
      if (uses >= limit.count) {
        const period = limit.periodDays !== undefined ? ` in ${limit.periodDays} days` : '';
        throw refuse(409, `Customer ${body.profileId} has redeemed offer "${offer.key}" ${uses} times${period}; the limit is ${limit.count}${period}`, 'profileId', 'limit reached');
      }
    }

    if (offer.coupons.type === 'unique' && code !== null && !(await this.repository.redeemCode(tx, offer.id, code, body.profileId))) {
      const state = await this.repository.codeState(tx, offer.id, code);
      if (!state) throw refuse(422, `Code ${code} is not a code of offer "${offer.key}"`, 'code', 'code not valid for this offer');
      if (state.status === 'redeemed') throw refuse(409, `Code ${code} of offer "${offer.key}" has been redeemed already`, 'code', 'code already redeemed');
      throw refuse(409, `Code ${code} of offer "${offer.key}" is reserved for another customer`, 'code', 'code reserved for another customer');
    }

    const row: Omit<RedemptionRow, 'seq'> = {
      id: randomUUID(),
      idempotencyKey,
      offerId: offer.id,
      offerKey: offer.key,
      profileId: body.profileId,
      code,
      orderId: body.orderId ?? null,
      orderAmount: order?.amount ?? null,
      orderCurrency: order?.currency ?? null,
      rewardType: offer.reward.type,
      rewardValue: value.value,
      rewardCurrency: value.currency,
      budgetKind: offer.budgetKind,
      budgetUnits: units,
      status: 'redeemed',
      redeemedAt: now,
      cancelledAt: null,
    };
    const response = toRedemptionResponse(row);
    await this.outbox.write(tx, [redeemedMessage(row)]);
    // The budget is taken at the commit, by a trigger on this row (migration 0008, ADR 20).
    await this.repository.recordRedemption(tx, row, { ...response });
    // bonus_points and points_multiplier rewards reach the points ledger in the same transaction.
    await this.loyalty.creditOfferReward(tx, { id: row.id, profileId: row.profileId, orderId: row.orderId, offerKey: offer.key, reward: offer.reward });
    return response;
  }

  /** The code in its stored form, or null for an offer without codes; refuses a missing or wrong one. */
  private checkCode(offer: OfferRow, given: string | undefined): string | null {
    const code = given === undefined ? undefined : normalizeCode(given);
    if (offer.coupons.type === 'none') {
      if (code !== undefined) throw refuse(422, `Offer "${offer.key}" takes no code; leave code out`, 'code', 'offer takes no code');
      return null;
    }
    if (code === undefined || code === '') throw refuse(422, `Offer "${offer.key}" needs a coupon code`, 'code', 'is required for this offer');
    if (offer.coupons.type === 'shared' && code !== offer.coupons.code) throw refuse(422, `Code ${code} is not the code of offer "${offer.key}"`, 'code', 'code not valid for this offer');
    return code;
  }
}

function assertRedeemableNow(offer: OfferRow, now: Date): void {
  if (offer.status !== 'active') throw refuse(409, `Offer "${offer.key}" is ${offer.status}; only active offers can be redeemed`, 'offerKey', 'offer not active');
  if (now < offer.startsAt) throw refuse(409, `Offer "${offer.key}" starts at ${offer.startsAtLocal} (${offer.timeZone})`, 'offerKey', 'offer not started yet');
  if (offer.endsAt && now >= offer.endsAt) throw refuse(409, `Offer "${offer.key}" ended at ${offer.endsAtLocal} (${offer.timeZone})`, 'offerKey', 'offer has ended');
}

function budgetOf(offer: OfferRow): OfferBudget {
  if (offer.budgetKind === 'redemptions') return { type: 'redemptions', limit: offer.budgetTotal ?? 0 };
  if (offer.budgetKind === 'amount') return { type: 'amount', amount: offer.budgetTotal ?? 0, currency: offer.budgetCurrency ?? '' };
  return { type: 'none' };
}

function redeemedMessage(row: Omit<RedemptionRow, 'seq'>): OutgoingMessage {
  const data: OfferRedeemedV1 = {
    redemptionId: row.id,
    offerId: row.offerId,
    offerKey: row.offerKey,
    profileId: row.profileId,
    code: row.code,
    orderId: row.orderId,
    orderAmount: row.orderAmount,
    orderCurrency: row.orderCurrency,
    rewardType: row.rewardType as OfferRewardType,
    rewardValue: row.rewardValue,
    rewardCurrency: row.rewardCurrency,
    at: row.redeemedAt.toISOString(),
  };
  return { subject: SUBJECTS.offersRedeemed, envelope: createEnvelope(SUBJECTS.offersRedeemed, data, { id: `redemption-${row.id}`, occurredAt: row.redeemedAt }), partitionKey: row.profileId };
}

/** The same Idempotency-Key with another body: 422, as the IETF Idempotency-Key draft asks; resending can never succeed. Not stored. */
function keyReused(idempotencyKey: string): RedemptionAnswer {
  return {
    status: 422,
    body: {
      statusCode: 422,
      error: REASON[422],
      message: `Idempotency-Key ${idempotencyKey} was used for a different redemption request; use a new key for a new request`,
      details: [{ field: 'Idempotency-Key', problem: 'already used with a different body' }],
    },
    replayed: false,
  };
}

function refusalAnswer(error: DomainError): { status: number; body: Record<string, unknown> } {
  return { status: refusalStatus(error), body: refusalBody(error) };
}

function refusalStatus(error: DomainError): number {
  return error instanceof RedemptionRefused ? error.status : toApiError(error).statusCode;
}

function refusalBody(error: DomainError): Record<string, unknown> {
  const status = refusalStatus(error);
  return { ...toApiError(error), statusCode: status, error: REASON[status] ?? toApiError(error).error };
}

const redemptionNotFound = (id: string) => new NotFoundError(`No redemption ${id}`, [{ field: 'id', problem: 'not found' }]);
