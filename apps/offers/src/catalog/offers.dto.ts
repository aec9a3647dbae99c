import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsEmpty, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { CursorPageQuery } from '@segmenta/chassis';
import { InOrder, OptionalNotNull, RequiredString, StringOf, VALIDATION_MESSAGES } from '@segmenta/contracts';
import type { CouponHandling, OfferBudget, OfferEligibility, OfferReward, PerCustomerLimit } from './offer-rules';
import { REWARD_TYPES } from './offer-rules';
import { OFFER_STATUSES, type OfferStatus } from './offer-status';
import type { OfferChangeRow, OfferRow } from './offers.repository';
import { MAX_RANDOM_LENGTH, MIN_RANDOM_LENGTH } from './coupon-codes';

/** Offer keys: URL slugs (lower-case letters, digits and -). */
export const OFFER_KEY = /^[a-z0-9][a-z0-9-]*$/;
const KEY_MESSAGE = 'key must be a slug: lower-case letters, digits and -, starting with a letter or digit';

const REWARD_DOC = {
  type: 'object',
  additionalProperties: true,
  example: { type: 'percent_off', percent: 10 },
  description: `One of: { type: "percent_off", percent: 0 < p ≤ 100 }; { type: "amount_off", amount: minor units > 0, currency: ISO 4217 }; { type: "free_shipping" }; { type: "bonus_points", points: integer > 0 }; { type: "points_multiplier", multiplier: 1 < m ≤ 10 }; { type: "gift", description }. Types: ${REWARD_TYPES.join(', ')}.`,
} as const;
const ELIGIBILITY_DOC = {
  type: 'object',
  additionalProperties: true,
  example: { segments: { anyOf: ['camera-intent'], noneOf: ['rfm-lost'] }, lifecycleStages: ['at_risk'] },
  description:
    'Who may get it: { segments?: { anyOf?, allOf?, noneOf? } (segment keys), tiers?: tier keys, lifecycleStages?: prospect|new|active|loyal|at_risk|lapsed }. {} or absent: everyone. Every segment named (lifecycle stages as lifecycle-<stage>) is announced to segmentation, which then refuses to delete it.',
} as const;
const BUDGET_DOC = {
  type: 'object',
  nullable: true,
  additionalProperties: true,
  example: { type: 'redemptions', limit: 500 },
  description: 'null or { type: "none" }: no budget; { type: "redemptions", limit }; { type: "amount", amount: minor units, currency }. The used part starts at 0.',
} as const;
const LIMIT_DOC = {
  type: 'object',
  nullable: true,
  additionalProperties: true,
  example: { count: 1, periodDays: 30 },
  description: 'Redemptions per customer: { count } ever, or { count, periodDays } per rolling period; null: no limit.',
} as const;
const COUPONS_DOC = {
  type: 'object',
  additionalProperties: true,
  example: { type: 'unique' },
  description: '{ type: "none" } (default): no code; { type: "shared", code }: one code for everyone; { type: "unique" }: a pool of codes each redeemable once (POST /v1/offers/{key}/codes).',
} as const;
const WINDOW_DESCRIPTION = 'A local date-time without offset (2026-11-27T00:00 or 2026-11-27T00:00:00), read in timeZone.';

export class CreateOfferDto {
  @ApiProperty({ example: 'black-friday-cameras', description: 'Unique slug; the offer is addressed by it (/v1/offers/{key}).' })
  @InOrder(RequiredString(100), Matches(OFFER_KEY, { message: KEY_MESSAGE }))
  key!: string;

  @ApiProperty({ example: 'Black Friday: 10% off cameras' })
  @RequiredString(200)
  name!: string;

  @ApiProperty({ example: 'Take 10% off any camera until Sunday.', description: 'Shown to the customer.' })
  @RequiredString(2000)
  description!: string;

  @ApiProperty(REWARD_DOC)
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsObject({ message: '$property must be an object with a type' }))
  reward!: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], nullable: true, example: ['cameras'], description: 'Product categories the reward applies to; absent or null: every category.' })
  @IsOptional()
  @IsArray({ message: VALIDATION_MESSAGES.array })
  categories?: unknown[] | null;

  @ApiProperty({ type: [String], example: ['home_banner', 'checkout'], description: 'Where it may be shown: names from OFFER_PLACEMENTS.' })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsArray({ message: VALIDATION_MESSAGES.array }))
  placements!: unknown[];

  @ApiPropertyOptional({ default: 0, example: 10, description: 'Higher first when several offers apply.' })
  @IsOptional()
  @IsInt({ message: 'priority must be a whole number' })
  @Min(-1_000_000, { message: 'priority must be at least -1000000' })
  @Max(1_000_000, { message: 'priority must be at most 1000000' })
  priority?: number;

  @ApiProperty({ example: '2026-11-27T00:00', description: WINDOW_DESCRIPTION })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsString({ message: VALIDATION_MESSAGES.string }), MaxLength(40, { message: VALIDATION_MESSAGES.maxLength }))
  startsAt!: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: '2026-11-30T23:59', description: `${WINDOW_DESCRIPTION} Absent or null: no end.` })
  @IsOptional()
  @IsString({ message: VALIDATION_MESSAGES.string })
  @MaxLength(40, { message: VALIDATION_MESSAGES.maxLength })
  endsAt?: string | null;

  @ApiProperty({ example: 'Europe/Berlin', description: 'IANA time zone of startsAt and endsAt (daylight saving time included).' })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsString({ message: VALIDATION_MESSAGES.string }), MaxLength(64, { message: VALIDATION_MESSAGES.maxLength }))
  timeZone!: string;

  @ApiPropertyOptional(ELIGIBILITY_DOC)
  @IsOptional()
  @IsObject({ message: '$property must be an object ({} means everyone)' })
  eligibility?: Record<string, unknown>;

  @ApiPropertyOptional(BUDGET_DOC)
  @IsOptional()
  @IsObject({ message: '$property must be an object with a type, or null' })
  budget?: Record<string, unknown> | null;

  @ApiPropertyOptional(LIMIT_DOC)
  @IsOptional()
  @IsObject({ message: '$property must be an object such as { "count": 1 }, or null' })
  perCustomerLimit?: Record<string, unknown> | null;

  @ApiPropertyOptional(COUPONS_DOC)
  @IsOptional()
  @IsObject({ message: '$property must be an object with a type' })
  coupons?: Record<string, unknown>;
}

/**
 * PATCH: the fields given replace the stored ones (objects such as reward as a whole), the others
 * stay. The key never changes, and the status changes through POST /v1/offers/{key}/status.
 */
export class UpdateOfferDto {
  @ApiPropertyOptional({ type: String, description: 'Not changeable: create a new offer instead.', readOnly: true })
  @IsEmpty({ message: 'key cannot change: create a new offer (and end this one) instead' })
  key?: never;

  @ApiPropertyOptional({ type: String, description: 'Not changeable here: POST /v1/offers/{key}/status.', readOnly: true })
  @IsEmpty({ message: 'status changes through POST /v1/offers/{key}/status' })
  status?: never;

  @ApiPropertyOptional()
  @OptionalNotNull()
  @StringOf(200)
  name?: string;

  @ApiPropertyOptional({ description: 'Shown to the customer.' })
  @OptionalNotNull()
  @StringOf(2000)
  description?: string;

  @ApiPropertyOptional(REWARD_DOC)
  @OptionalNotNull()
  @IsObject({ message: '$property must be an object with a type' })
  reward?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null: every category.' })
  @IsOptional()
  @IsArray({ message: VALIDATION_MESSAGES.array })
  categories?: unknown[] | null;

  @ApiPropertyOptional({ type: [String] })
  @OptionalNotNull()
  @IsArray({ message: VALIDATION_MESSAGES.array })
  placements?: unknown[];

  @ApiPropertyOptional()
  @OptionalNotNull()
  @IsInt({ message: 'priority must be a whole number' })
  @Min(-1_000_000, { message: 'priority must be at least -1000000' })
  @Max(1_000_000, { message: 'priority must be at most 1000000' })
  priority?: number;

  @ApiPropertyOptional({ description: WINDOW_DESCRIPTION })
  @OptionalNotNull()
  @StringOf(40)
  startsAt?: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: `${WINDOW_DESCRIPTION} null: no end.` })
  @IsOptional()
  @StringOf(40)
  endsAt?: string | null;

  @ApiPropertyOptional({ description: 'IANA time zone; the stored local times are read in it.' })
  @OptionalNotNull()
  @StringOf(64)
  timeZone?: string;

  @ApiPropertyOptional(ELIGIBILITY_DOC)
  @OptionalNotNull()
  @IsObject({ message: '$property must be an object ({} means everyone)' })
  eligibility?: Record<string, unknown>;

  @ApiPropertyOptional(BUDGET_DOC)
  @IsOptional()
  @IsObject({ message: '$property must be an object with a type, or null' })
  budget?: Record<string, unknown> | null;

  @ApiPropertyOptional(LIMIT_DOC)
  @IsOptional()
  @IsObject({ message: '$property must be an object such as { "count": 1 }, or null' })
  perCustomerLimit?: Record<string, unknown> | null;

  @ApiPropertyOptional(COUPONS_DOC)
  @OptionalNotNull()
  @IsObject({ message: '$property must be an object with a type' })
  coupons?: Record<string, unknown>;
}

export class ChangeStatusDto {
  @ApiProperty({
    enum: OFFER_STATUSES,
    example: 'active',
    description: 'draft → scheduled|active; scheduled → draft|active|paused|ended; active → paused|ended; paused → active|ended; ended is final.',
  })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsIn(OFFER_STATUSES, { message: `status must be one of ${OFFER_STATUSES.join(', ')}` }))
  status!: OfferStatus;
}

export class ListOffersQueryDto extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {
  @ApiPropertyOptional({ enum: OFFER_STATUSES })
  @IsOptional()
  @IsIn(OFFER_STATUSES, { message: `status must be one of ${OFFER_STATUSES.join(', ')}` })
  status?: OfferStatus;

  @ApiPropertyOptional({ example: 'checkout', description: 'Only offers shown there (a name from OFFER_PLACEMENTS).' })
  @IsOptional()
  @StringOf(40)
  placement?: string;
}

export class PageQueryDto extends CursorPageQuery({ defaultLimit: 100, maxLimit: 1000 }) {}

export class GenerateCodesDto {
  @ApiProperty({ example: 1000, minimum: 1, maximum: 100_000 })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsInt({ message: '$property must be a whole number' }))
  @Min(1, { message: '$property must be at least 1' })
  @Max(100_000, { message: '$property must be at most 100000 per request' })
  count!: number;

  @ApiPropertyOptional({ example: 'BF26-', default: '', description: 'Upper-case letters, digits, - and _, at most 20; lower case is raised.' })
  @IsOptional()
  @IsString({ message: VALIDATION_MESSAGES.string })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$/, { message: '$property must be 1 to 20 letters, digits, - or _, starting with a letter or digit' })
  prefix?: string;

  @ApiPropertyOptional({ example: 10, default: 10, minimum: MIN_RANDOM_LENGTH, maximum: MAX_RANDOM_LENGTH, description: 'Random characters after the prefix.' })
  @IsOptional()
  @IsInt({ message: '$property must be a whole number' })
  @Min(MIN_RANDOM_LENGTH, { message: `$property must be at least ${MIN_RANDOM_LENGTH}` })
  @Max(MAX_RANDOM_LENGTH, { message: `$property must be at most ${MAX_RANDOM_LENGTH}` })
  length?: number;
}

/** Exactly one of `generate` and `codes`. A text/csv or text/plain body (one code per line) is an upload too. */
export class AddCodesDto {
  @ApiPropertyOptional({ type: GenerateCodesDto, description: 'Generate this many random codes (cryptographically random, no look-alike characters).' })
  @OptionalNotNull()
  @IsObject({ message: '$property must be an object' })
  @ValidateNested()
  @Type(() => GenerateCodesDto)
  generate?: GenerateCodesDto;

  @ApiPropertyOptional({ type: [String], example: ['SPRING-7KQ2M9', 'SPRING-X4HT8P'], description: 'Upload these codes; nothing is stored when one is malformed or a duplicate.' })
  @OptionalNotNull()
  @IsArray({ message: VALIDATION_MESSAGES.array })
  @ArrayMaxSize(100_000, { message: VALIDATION_MESSAGES.arrayMaxSize })
  codes?: unknown[];

  @ApiPropertyOptional({ example: '6f1c0c1e-request-1', description: 'A retry with the same key adds nothing again and answers as the first time.' })
  @IsOptional()
  @IsString({ message: VALIDATION_MESSAGES.string })
  @Matches(/^[A-Za-z0-9_.:-]{1,100}$/, { message: '$property must be 1 to 100 letters, digits, _, ., : or -' })
  idempotencyKey?: string;
}

export interface OfferResponse {
  id: string;
  key: string;
  name: string;
  description: string;
  reward: OfferReward;
  categories: string[] | null;
  placements: string[];
  priority: number;
  startsAt: string;
  endsAt: string | null;
  timeZone: string;
  /** The instants the window covers (UTC). */
  startsAtUtc: string;
  endsAtUtc: string | null;
  eligibility: OfferEligibility;
  budget: (OfferBudget & { used: number }) | null;
  perCustomerLimit: PerCustomerLimit | null;
  coupons: CouponHandling;
  status: OfferStatus;
  /** Grows with every save. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

export function toOfferResponse(row: OfferRow): OfferResponse {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    description: row.description,
    reward: row.reward,
    categories: row.categories ?? null,
    placements: row.placements,
    priority: row.priority,
    startsAt: row.startsAtLocal,
    endsAt: row.endsAtLocal,
    timeZone: row.timeZone,
    startsAtUtc: row.startsAt.toISOString(),
    endsAtUtc: row.endsAt ? row.endsAt.toISOString() : null,
    eligibility: row.eligibility,
    budget: budgetOf(row),
    perCustomerLimit: perCustomerLimitOf(row),
    coupons: row.coupons,
    status: row.status,
    revision: row.revision,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function budgetOf(row: OfferRow): OfferResponse['budget'] {
  if (row.budgetKind === 'redemptions') return { type: 'redemptions', limit: row.budgetTotal ?? 0, used: row.budgetUsed };
  if (row.budgetKind === 'amount') return { type: 'amount', amount: row.budgetTotal ?? 0, currency: row.budgetCurrency ?? '', used: row.budgetUsed };
  return null;
}

export interface OfferChangeResponse {
  seq: number;
  action: OfferChangeRow['action'];
  /** The API key id of the caller ('ADMIN_API_KEY' for the bootstrap key). */
  actor: string;
  at: string;
  changes: Record<string, { from: unknown; to: unknown }>;
}

export const toChangeResponse = (row: OfferChangeRow): OfferChangeResponse => ({ seq: row.seq, action: row.action, actor: row.actor, at: row.at.toISOString(), changes: row.changes });

/** An offer's per-customer limit as the API and the limit rules state it (null: no limit). */
export function perCustomerLimitOf(row: Pick<OfferRow, 'perCustomerLimit' | 'perCustomerPeriodDays'>): PerCustomerLimit | null {
  return row.perCustomerLimit === null ? null : { count: row.perCustomerLimit, ...(row.perCustomerPeriodDays !== null ? { periodDays: row.perCustomerPeriodDays } : {}) };
}

/** An offer as the catalog answers it (the OpenAPI examples of the catalog and of the personalized API). */
export const OFFER_EXAMPLE = {
  id: '0b9f8c52-3a55-4d1e-9a4e-2f7c5d7f1a10',
  key: 'black-friday-cameras',
  name: 'Black Friday: 10% off cameras',
  description: 'Take 10% off any camera until Sunday.',
  reward: { type: 'percent_off', percent: 10 },
  categories: ['cameras'],
  placements: ['home_banner', 'checkout'],
  priority: 10,
  startsAt: '2026-11-27T00:00:00',
  endsAt: '2026-11-30T23:59:59',
  timeZone: 'Europe/Berlin',
  startsAtUtc: '2026-11-26T23:00:00.000Z',
  endsAtUtc: '2026-11-30T22:59:59.000Z',
  eligibility: { segments: { anyOf: ['camera-intent'] }, lifecycleStages: ['at_risk'] },
  budget: { type: 'redemptions', limit: 500, used: 0 },
  perCustomerLimit: { count: 1 },
  coupons: { type: 'unique' },
  status: 'draft',
  revision: 1,
  createdAt: '2026-11-01T09:00:00.000Z',
  updatedAt: '2026-11-01T09:00:00.000Z',
};
