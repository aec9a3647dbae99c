import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConflictError, InvalidStateError, NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import { SUBJECTS, type ApiErrorDetail, type SegmentReferencesV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { OffersConfig } from '../config';
import { diffFields, type FieldChanges } from './offer-changes';
import {
  referencedSegmentKeys,
  validateBudget,
  validateCategories,
  validateCoupons,
  validateEligibility,
  validatePerCustomerLimit,
  validatePlacements,
  validateReward,
  type Checked,
  type OfferBudget,
  type PerCustomerLimit,
} from './offer-rules';
import { allowedTransitions, canTransition, type OfferStatus } from './offer-status';
import { OFFER_KEY, toChangeResponse, toOfferResponse, type CreateOfferDto, type ListOffersQueryDto, type OfferChangeResponse, type OfferResponse, type UpdateOfferDto } from './offers.dto';
import { OffersRepository, type NewOfferRow, type OfferRow, type OffersTx } from './offers.repository';
import { resolveValidityWindow } from './validity-window';

/** Response fields that are bookkeeping, not content: left out of the audit diff. */
const NOT_AUDITED = ['id', 'revision', 'createdAt', 'updatedAt', 'startsAtUtc', 'endsAtUtc'] as const;

/** The offer catalog: validation, status transitions, the audit trail and the segment references. */
@Injectable()
export class OffersService {
  constructor(
    private readonly repository: OffersRepository,
    private readonly outbox: Outbox,
    private readonly config: OffersConfig,
  ) {}

  async get(key: string): Promise<OfferResponse> {
    return toOfferResponse(await this.find(key));
  }

  async find(key: string): Promise<OfferRow> {
    // A string that is no slug names no offer: no need to ask the database.
    const row = key.length <= 100 && OFFER_KEY.test(key) ? await this.repository.byKey(key) : undefined;
    if (!row) throw offerNotFound(key);
    return row;
  }

  async list(query: ListOffersQueryDto): Promise<{ offers: OfferResponse[]; nextCursor: string | null }> {
    if (query.cursor !== undefined && !(query.cursor.length <= 100 && OFFER_KEY.test(query.cursor))) throw ValidationFailedError.of([{ field: 'cursor', problem: 'invalid' }]);
    if (query.placement !== undefined && !this.config.offerPlacements.includes(query.placement))
      throw ValidationFailedError.of([{ field: 'placement', problem: `is not a known placement (allowed: ${this.config.offerPlacements.join(', ')})` }]);
    const limit = query.limit ?? 50;
    const rows = await this.repository.list({ status: query.status, placement: query.placement, afterKey: query.cursor, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { offers: page.map(toOfferResponse), nextCursor: rows.length > limit ? page[page.length - 1].key : null };
  }

  async history(key: string, cursor: string | undefined, limit: number): Promise<{ changes: OfferChangeResponse[]; nextCursor: string | null }> {
    if (cursor !== undefined && !/^[1-9]\d{0,15}$/.test(cursor)) throw ValidationFailedError.of([{ field: 'cursor', problem: 'invalid' }]);
    const offer = await this.find(key);
    const rows = await this.repository.changes(offer.id, cursor === undefined ? undefined : Number(cursor), limit + 1);
    const page = rows.slice(0, limit);
    return { changes: page.map(toChangeResponse), nextCursor: rows.length > limit ? String(page[page.length - 1].seq) : null };
  }

  /** A new offer, always a draft; its references and audit entry commit with it. */
  async create(body: CreateOfferDto, actor: string): Promise<OfferResponse> {
    const content = this.checkedContent(body);
    const created = await this.repository.transaction(async (tx) => {
      const row = await this.repository.insert({ id: randomUUID(), key: body.key, ...content, status: 'draft', revision: 1 }, tx);
      if (!row) throw new ConflictError(`An offer with key "${body.key}" exists`, [{ field: 'key', problem: 'already exists' }]);
      await this.saved(tx, row, 'created', diffFields(null, audited(row), NOT_AUDITED), actor);
      return row;
    });
    this.outbox.wake();
    return toOfferResponse(created);
  }

  /** PATCH: the fields given replace the stored ones; nothing given or nothing different saves nothing. */
  async update(key: string, body: UpdateOfferDto, actor: string): Promise<OfferResponse> {
    const updated = await this.repository.transaction(async (tx) => {
      const row = await this.locked(key, tx);
      if (row.status === 'ended') throw new InvalidStateError(`Offer "${key}" has ended; ended offers are final (create a new one)`, [{ field: 'status', problem: 'ended' }]);
      const content = this.checkedContent(body, row);
      if (row.coupons.type === 'unique' && content.coupons.type !== 'unique') {
        const counts = await this.repository.codeCounts(row.id, tx);
        if (counts.available + counts.reserved + counts.redeemed > 0)
          throw new InvalidStateError(`Offer "${key}" has a pool of unique codes; it cannot change to ${content.coupons.type} coupons`, [
            { field: 'coupons.type', problem: 'the offer has unique codes' },
          ]);
      }
      const changes = diffFields(audited(row), audited({ ...row, ...content }), NOT_AUDITED);
      if (Object.keys(changes).length === 0) return row;
      const saved = await this.repository.update(row.id, content, tx);
      await this.saved(tx, saved, 'updated', changes, actor);
      return saved;
    });
    this.outbox.wake();
    return toOfferResponse(updated);
  }

  async changeStatus(key: string, to: OfferStatus, actor: string): Promise<OfferResponse> {
    const updated = await this.repository.transaction(async (tx) => {
      const row = await this.locked(key, tx);
      if (!canTransition(row.status, to)) {
        const allowed = allowedTransitions(row.status);
        throw new InvalidStateError(`Offer "${key}" is ${row.status}; it cannot become ${to}. ${allowed.length > 0 ? `Allowed from ${row.status}: ${allowed.join(', ')}` : `${row.status} is final`}`, [
          { field: 'status', problem: `${row.status} → ${to} is not allowed${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}` },
        ]);
      }
      if ((to === 'active' || to === 'scheduled') && row.endsAt && row.endsAt.getTime() <= Date.now())
        throw new InvalidStateError(`Offer "${key}" ended on ${row.endsAtLocal} (${row.timeZone}); move its end first or end the offer`, [{ field: 'endsAt', problem: 'is in the past' }]);
      if (to === 'active' && row.coupons.type === 'unique' && (await this.repository.codeCounts(row.id, tx)).available === 0)
        throw new InvalidStateError(`Offer "${key}" needs unique codes and has none available; add codes first (POST /v1/offers/${key}/codes)`, [{ field: 'coupons', problem: 'no codes available' }]);
      const saved = await this.repository.update(row.id, { status: to }, tx);
      await this.saved(tx, saved, 'status_changed', { status: { from: row.status, to } }, actor);
      return saved;
    });
    this.outbox.wake();
    return toOfferResponse(updated);
  }

  /** Drafts only: an offer that was ever scheduled or served is ended instead, and stays for reporting. */
  async delete(key: string, actor: string): Promise<{ deleted: true; key: string }> {
    await this.repository.transaction(async (tx) => {
      const row = await this.locked(key, tx);
      if (row.status !== 'draft')
        throw new InvalidStateError(`Offer "${key}" is ${row.status}; only drafts can be deleted. End it instead (POST /v1/offers/${key}/status with "ended")`, [
          { field: 'status', problem: `${row.status}: only drafts can be deleted` },
        ]);
      await this.repository.delete(row.id, tx);
      await this.repository.recordChange({ offerId: row.id, offerKey: row.key, action: 'deleted', actor, changes: diffFields(audited(row), null, NOT_AUDITED) }, tx);
      // One revision past the last save: segmentation drops the references.
      await this.announceReferences(tx, row, [], row.revision + 1);
    });
    this.outbox.wake();
    return { deleted: true, key };
  }

  private async locked(key: string, tx: OffersTx): Promise<OfferRow> {
    const row = key.length <= 100 && OFFER_KEY.test(key) ? await this.repository.lockByKey(key, tx) : undefined;
    if (!row) throw offerNotFound(key);
    return row;
  }

  /** What every save writes in its transaction: the audit entry and the offer's segment references. */
  private async saved(tx: OffersTx, row: OfferRow, action: 'created' | 'updated' | 'status_changed', changes: FieldChanges, actor: string): Promise<void> {
    await this.repository.recordChange({ offerId: row.id, offerKey: row.key, action, actor, changes }, tx);
    await this.announceReferences(tx, row, referencedSegmentKeys(row.eligibility), row.revision);
  }

  /** offers.segment-references into the outbox, in the change's transaction (ADR 12). */
  private async announceReferences(tx: OffersTx, row: OfferRow, segmentKeys: string[], revision: number): Promise<void> {
    const data: SegmentReferencesV1 = { service: 'offers', ownerKind: 'offer', ownerId: row.id, ownerName: row.name, segmentKeys, revision };
    await this.outbox.write(tx, [
      {
        subject: SUBJECTS.offersSegmentReferences,
        envelope: createEnvelope(SUBJECTS.offersSegmentReferences, data, { id: `offer-${row.id}-references-r${revision}` }),
        partitionKey: row.id,
      },
    ]);
  }

  /**
   * The offer's content from a create body, or from an update body over the stored offer: every
   * part checked, every problem reported at once with its field (400), nothing saved.
   */
  private checkedContent(body: Partial<CreateOfferDto> | UpdateOfferDto, stored?: OfferRow): Omit<NewOfferRow, 'id' | 'key' | 'status' | 'revision'> {
    const problems: ApiErrorDetail[] = [];
    const take = <T>(checked: Checked<T>, fallback: T): T => {
      if (checked.ok) return checked.value;
      problems.push(...checked.problems);
      return fallback;
    };
    const given = (field: keyof UpdateOfferDto) => (body as Record<string, unknown>)[field] !== undefined;
    const reward = given('reward') || !stored ? take(validateReward(body.reward), { type: 'free_shipping' }) : stored.reward;
    const categories = given('categories') || !stored ? take(validateCategories(body.categories), null) : stored.categories;
    const placements = given('placements') || !stored ? take(validatePlacements(body.placements, this.config.offerPlacements), []) : stored.placements;
    const eligibility = given('eligibility') || !stored ? take(validateEligibility(body.eligibility), {}) : stored.eligibility;
    const budget: OfferBudget = given('budget') || !stored ? take(validateBudget(body.budget), { type: 'none' }) : storedBudget(stored);
    // null clears these two; absent keeps them.
    const limit: PerCustomerLimit | null = body.perCustomerLimit !== undefined || !stored ? take(validatePerCustomerLimit(body.perCustomerLimit), null) : storedLimit(stored);
    const coupons = given('coupons') || !stored ? take(validateCoupons(body.coupons), { type: 'none' }) : stored.coupons;
    const window = take(
      resolveValidityWindow({
        startsAt: body.startsAt ?? stored?.startsAtLocal,
        endsAt: body.endsAt !== undefined ? body.endsAt : stored?.endsAtLocal,
        timeZone: body.timeZone ?? stored?.timeZone,
      }),
      undefined,
    );
    if (problems.length > 0 || !window) throw ValidationFailedError.of(problems);
    return {
      name: body.name ?? stored?.name ?? '',
      description: body.description ?? stored?.description ?? '',
      reward,
      categories,
      placements,
      priority: body.priority ?? stored?.priority ?? 0,
      eligibility,
      startsAtLocal: window.startsAtLocal,
      endsAtLocal: window.endsAtLocal,
      timeZone: window.timeZone,
      startsAt: window.startsAt,
      endsAt: window.endsAt,
      budgetKind: budget.type,
      budgetTotal: budget.type === 'redemptions' ? budget.limit : budget.type === 'amount' ? budget.amount : null,
      budgetCurrency: budget.type === 'amount' ? budget.currency : null,
      perCustomerLimit: limit?.count ?? null,
      perCustomerPeriodDays: limit?.periodDays ?? null,
      coupons,
    };
  }
}

export const offerNotFound = (key: string) => new NotFoundError(`No offer "${key}"`, [{ field: 'key', problem: 'not found' }]);

/** The offer as the API shows it, minus its used budget (redemptions change it, not admins): what the audit diff compares. */
function audited(row: OfferRow): Record<string, unknown> {
  const response = toOfferResponse(row) as unknown as Record<string, unknown>;
  const budget = response.budget as Record<string, unknown> | null;
  return budget ? { ...response, budget: Object.fromEntries(Object.entries(budget).filter(([field]) => field !== 'used')) } : response;
}

function storedBudget(row: OfferRow): OfferBudget {
  if (row.budgetKind === 'redemptions') return { type: 'redemptions', limit: row.budgetTotal ?? 0 };
  if (row.budgetKind === 'amount') return { type: 'amount', amount: row.budgetTotal ?? 0, currency: row.budgetCurrency ?? '' };
  return { type: 'none' };
}

function storedLimit(row: OfferRow): PerCustomerLimit | null {
  if (row.perCustomerLimit === null) return null;
  return { count: row.perCustomerLimit, ...(row.perCustomerPeriodDays !== null ? { periodDays: row.perCustomerPeriodDays } : {}) };
}
