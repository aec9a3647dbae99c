import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InvalidStateError, ValidationFailedError, validationMessage } from '@segmenta/chassis';
import type { ApiErrorDetail } from '@segmenta/contracts';
import { COUPON_CODE } from './offer-rules';
import { checkUploadedCodes, codeSpaceProblem, generateCodes, splitTextUpload } from './coupon-codes';
import type { AddCodesDto } from './offers.dto';
import { OffersRepository, type CouponCodeRow, type OffersTx } from './offers.repository';
import { OffersService, offerNotFound } from './offers.service';

/** Most codes one request adds (generated or uploaded). */
export const MAX_CODES_PER_REQUEST = 100_000;
/** Problems listed in one 400: enough to fix a file, short enough to read. */
const MAX_LISTED_PROBLEMS = 100;

export interface CodeCounts {
  available: number;
  reserved: number;
  redeemed: number;
  total: number;
}

export interface AddedCodes {
  added: number;
  source: 'generated' | 'uploaded';
  /** The request's batch: its idempotencyKey, or a fresh id. */
  batch: string;
  /** true when the idempotencyKey was seen before: nothing was added this time. */
  replayed: boolean;
  counts: CodeCounts;
}

/** What a request adds: codes to draw, or codes given (each with the field that names it in errors). */
type CodeRequest = { kind: 'generate'; count: number; prefix: string; length: number } | { kind: 'upload'; entries: unknown[]; fieldOf: (index: number) => string };

/** The pools of unique coupon codes: generation, uploads (all or nothing) and the list with counts. */
@Injectable()
export class CouponPoolsService {
  constructor(
    private readonly repository: OffersRepository,
    private readonly offers: OffersService,
  ) {}

  async list(
    key: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ counts: CodeCounts; codes: Array<{ code: string; status: CouponCodeRow['status']; source: CouponCodeRow['source']; createdAt: string }>; nextCursor: string | null }> {
    if (cursor !== undefined && !COUPON_CODE.test(cursor)) throw ValidationFailedError.of([{ field: 'cursor', problem: 'invalid' }]);
    const offer = await this.offers.find(key);
    const [counts, rows] = await Promise.all([this.repository.codeCounts(offer.id), this.repository.codes(offer.id, cursor, limit + 1)]);
    const page = rows.slice(0, limit);
    return {
      counts: withTotal(counts),
      codes: page.map((r) => ({ code: r.code, status: r.status, source: r.source, createdAt: r.createdAt.toISOString() })),
      nextCursor: rows.length > limit ? page[page.length - 1].code : null,
    };
  }

  /**
   * Adds codes to an offer with unique coupons: `body` is the JSON request or the text of a
   * text/csv or text/plain upload (one code per line). Under the offer's lock, so two requests for
   * one pool queue up and a retried idempotencyKey finds the first one's codes.
   */
  async add(key: string, body: AddCodesDto | string, actor: string): Promise<AddedCodes> {
    const request = codeRequest(body);
    const batch = (typeof body === 'string' ? undefined : body.idempotencyKey) ?? randomUUID();
    const source = request.kind === 'generate' ? 'generated' : 'uploaded';
    return this.repository.transaction(async (tx) => {
      const offer = await this.repository.lockByKey(key, tx);
      if (!offer) throw offerNotFound(key);
      if (offer.coupons.type !== 'unique')
        throw new InvalidStateError(`Offer "${key}" uses ${offer.coupons.type === 'shared' ? 'one shared code' : 'no codes'}; only offers with unique coupons have a pool`, [
          { field: 'coupons.type', problem: `is ${offer.coupons.type}, not unique` },
        ]);
      if (offer.status === 'ended') throw new InvalidStateError(`Offer "${key}" has ended; ended offers are final`, [{ field: 'status', problem: 'ended' }]);
      const before = withTotal(await this.repository.codeCounts(offer.id, tx));
      const earlier = await this.repository.batchSize(offer.id, batch, tx);
      if (earlier > 0) return { added: earlier, source, batch, replayed: true, counts: before };
      const added = request.kind === 'generate' ? await this.generate(tx, offer.id, request, batch, before.total) : await this.upload(tx, offer.id, request, batch);
      await this.repository.recordChange({ offerId: offer.id, offerKey: offer.key, action: 'codes_added', actor, changes: { codes: { from: before.total, to: before.total + added } } }, tx);
      return { added, source, batch, replayed: false, counts: withTotal(await this.repository.codeCounts(offer.id, tx)) };
    });
  }

  /** Draws codes until `count` new ones are stored: a draw that collides with the pool is drawn again. */
  private async generate(tx: OffersTx, offerId: string, request: Extract<CodeRequest, { kind: 'generate' }>, batch: string, existing: number): Promise<number> {
    const tooDense = codeSpaceProblem(request.count, request.length, existing);
    if (tooDense) throw ValidationFailedError.of([{ field: 'generate.length', problem: tooDense }]);
    const stored = new Set<string>();
    while (stored.size < request.count) {
      const codes = generateCodes(request.count - stored.size, { prefix: request.prefix, length: request.length, taken: stored });
      for (const code of await this.repository.insertCodes(offerId, codes, batch, 'generated', tx)) stored.add(code);
    }
    return stored.size;
  }

  /** All or nothing: one malformed, repeated or already pooled code refuses the whole upload, each reported. */
  private async upload(tx: OffersTx, offerId: string, request: Extract<CodeRequest, { kind: 'upload' }>, batch: string): Promise<number> {
    const normalized = request.entries.filter((e): e is string => typeof e === 'string').map((e) => e.trim().toUpperCase());
    const existing = await this.repository.existingCodes(offerId, normalized, tx);
    const { codes, problems } = checkUploadedCodes(request.entries, existing, request.fieldOf);
    if (problems.length > 0) throw refusedUpload(problems);
    const inserted = await this.repository.insertCodes(offerId, codes, batch, 'uploaded', tx);
    return inserted.length;
  }
}

function codeRequest(body: AddCodesDto | string): CodeRequest {
  if (typeof body === 'string') {
    const lines = splitTextUpload(body);
    if (lines.length === 0) throw ValidationFailedError.of([{ field: 'body', problem: 'holds no codes (one code per line)' }]);
    if (lines.length > MAX_CODES_PER_REQUEST) throw ValidationFailedError.of([{ field: 'body', problem: `holds ${lines.length} codes; at most ${MAX_CODES_PER_REQUEST} per request` }]);
    return { kind: 'upload', entries: lines.map((l) => l.value), fieldOf: (i) => `line ${lines[i].line}` };
  }
  if (body.generate !== undefined && body.codes !== undefined) throw ValidationFailedError.of([{ field: 'codes', problem: 'give generate or codes, not both' }]);
  if (body.generate !== undefined) return { kind: 'generate', count: body.generate.count, prefix: (body.generate.prefix ?? '').toUpperCase(), length: body.generate.length ?? 10 };
  if (body.codes !== undefined) {
    if (body.codes.length === 0) throw ValidationFailedError.of([{ field: 'codes', problem: 'must not be empty' }]);
    return { kind: 'upload', entries: body.codes, fieldOf: (i) => `codes[${i}]` };
  }
  throw ValidationFailedError.of([{ field: 'generate', problem: 'generate or codes is required (or send text/csv or text/plain, one code per line)' }]);
}

function refusedUpload(problems: ApiErrorDetail[]): ValidationFailedError {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
  const more = problems.length - listed.length;
  return new ValidationFailedError(
    `Nothing was stored: ${problems.length} code${problems.length > 1 ? 's are' : ' is'} refused. ${validationMessage(listed)}${more > 0 ? ` (and ${more} more)` : ''}`,
    listed,
  );
}

const withTotal = (counts: Omit<CodeCounts, 'total'>): CodeCounts => ({ ...counts, total: counts.available + counts.reserved + counts.redeemed });
