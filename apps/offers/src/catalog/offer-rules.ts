import { LIFECYCLE_STAGES } from '@segmenta/analytics';
import type { ApiErrorDetail } from '@segmenta/contracts';

/**
 * The parts of an offer that are more than a scalar — reward, budget, per-customer limit, coupon
 * handling, eligibility, categories, placements — as types and pure validators. Each validator
 * takes the raw JSON value and answers the normalised value or every problem with its field path
 * (`reward.percent`), so a 400 names exactly what to fix. No Nest, no I/O.
 */

export const REWARD_TYPES = ['percent_off', 'amount_off', 'free_shipping', 'bonus_points', 'points_multiplier', 'gift'] as const;
export type RewardType = (typeof REWARD_TYPES)[number];

export type OfferReward =
  | { type: 'percent_off'; percent: number }
  /** Minor units of `currency`. */
  | { type: 'amount_off'; amount: number; currency: string }
  | { type: 'free_shipping' }
  | { type: 'bonus_points'; points: number }
  | { type: 'points_multiplier'; multiplier: number }
  | { type: 'gift'; description: string };

export type OfferBudget = { type: 'none' } | { type: 'redemptions'; limit: number } | { type: 'amount'; amount: number; currency: string };

/** `{ count: 1 }`: once per customer; `{ count: 1, periodDays: 30 }`: once every 30 days. */
export interface PerCustomerLimit {
  count: number;
  periodDays?: number;
}

export type CouponHandling = { type: 'none' } | { type: 'shared'; code: string } | { type: 'unique' };

export interface OfferEligibility {
  segments?: { anyOf?: string[]; allOf?: string[]; noneOf?: string[] };
  tiers?: string[];
  lifecycleStages?: Array<(typeof LIFECYCLE_STAGES)[number]>;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: ApiErrorDetail[] };

/** Segment keys as segmentation accepts them (segments.dto.ts). */
export const SEGMENT_KEY = /^[a-z0-9][a-z0-9_-]*$/;
/** Codes customers type: letters, digits, - and _, 3 to 64 characters; stored upper-case. */
export const COUPON_CODE = /^[A-Z0-9][A-Z0-9_-]{2,63}$/;
/** Integers JSON and PostgreSQL bigint both hold exactly. */
const MAX_MINOR_UNITS = Number.MAX_SAFE_INTEGER;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPositiveInteger = (value: unknown, max = MAX_MINOR_UNITS): value is number => Number.isInteger(value) && (value as number) > 0 && (value as number) <= max;

let currencies: Set<string> | undefined;
/** ISO 4217 codes as the runtime's Intl knows them (ICU's list). */
export function isCurrencyCode(value: unknown): value is string {
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return typeof value === 'string' && currencies.has(value);
}

/** Problems for keys of `value` outside `allowed`: a typo (`precent`) must not pass silently. */
function unknownKeys(value: Record<string, unknown>, allowed: readonly string[], field: string): ApiErrorDetail[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => ({ field: `${field}.${key}`, problem: `is not a field of ${field} (allowed: ${allowed.join(', ')})` }));
}

function nonEmptyText(value: unknown, field: string, maxLength: number): ApiErrorDetail[] {
  if (typeof value !== 'string') return [{ field, problem: 'must be a string' }];
  if (value.trim() === '') return [{ field, problem: 'must not be empty' }];
  if (value.length > maxLength) return [{ field, problem: `must be at most ${maxLength} characters` }];
  return [];
}

function currencyProblems(value: unknown, field: string): ApiErrorDetail[] {
  if (value === undefined) return [{ field, problem: 'is required' }];
  return isCurrencyCode(value) ? [] : [{ field, problem: 'must be an ISO 4217 currency code such as EUR or USD' }];
}

export function validateReward(input: unknown, field = 'reward'): Checked<OfferReward> {
  if (!isObject(input)) return { ok: false, problems: [{ field, problem: 'must be an object with a type' }] };
  const type = input.type;
  if (typeof type !== 'string' || !(REWARD_TYPES as readonly string[]).includes(type))
    return { ok: false, problems: [{ field: `${field}.type`, problem: `must be one of ${REWARD_TYPES.join(', ')}` }] };
  const problems: ApiErrorDetail[] = [];
  let reward: OfferReward;
  switch (type as RewardType) {
    case 'percent_off': {
      const percent = input.percent;
      if (typeof percent !== 'number' || !Number.isFinite(percent) || percent <= 0 || percent > 100) problems.push({ field: `${field}.percent`, problem: 'must be a number above 0 and at most 100' });
      problems.push(...unknownKeys(input, ['type', 'percent'], field));
      reward = { type: 'percent_off', percent: percent as number };
      break;
    }
    case 'amount_off':
      if (!isPositiveInteger(input.amount)) problems.push({ field: `${field}.amount`, problem: 'must be a whole number of minor units (cents) above 0' });
      problems.push(...currencyProblems(input.currency, `${field}.currency`));
      problems.push(...unknownKeys(input, ['type', 'amount', 'currency'], field));
      reward = { type: 'amount_off', amount: input.amount as number, currency: input.currency as string };
      break;
    case 'free_shipping':
      problems.push(...unknownKeys(input, ['type'], field));
      reward = { type: 'free_shipping' };
      break;
    case 'bonus_points':
      if (!isPositiveInteger(input.points, 2 ** 31 - 1)) problems.push({ field: `${field}.points`, problem: 'must be a whole number of points above 0' });
      problems.push(...unknownKeys(input, ['type', 'points'], field));
      reward = { type: 'bonus_points', points: input.points as number };
      break;
    case 'points_multiplier': {
      const multiplier = input.multiplier;
      if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier <= 1 || multiplier > 10)
        problems.push({ field: `${field}.multiplier`, problem: 'must be a number above 1 and at most 10' });
      problems.push(...unknownKeys(input, ['type', 'multiplier'], field));
      reward = { type: 'points_multiplier', multiplier: multiplier as number };
      break;
    }
    case 'gift':
      problems.push(...nonEmptyText(input.description, `${field}.description`, 500));
      problems.push(...unknownKeys(input, ['type', 'description'], field));
      reward = { type: 'gift', description: input.description as string };
      break;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: reward };
}

/** `null` or absent: no budget. */
export function validateBudget(input: unknown, field = 'budget'): Checked<OfferBudget> {
  if (input === undefined || input === null) return { ok: true, value: { type: 'none' } };
  if (!isObject(input)) return { ok: false, problems: [{ field, problem: 'must be an object with a type (none, redemptions or amount), or null' }] };
  const problems: ApiErrorDetail[] = [];
  switch (input.type) {
    case 'none':
      problems.push(...unknownKeys(input, ['type'], field));
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { type: 'none' } };
    case 'redemptions':
      if (!isPositiveInteger(input.limit)) problems.push({ field: `${field}.limit`, problem: 'must be a whole number of redemptions above 0' });
      problems.push(...unknownKeys(input, ['type', 'limit'], field));
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { type: 'redemptions', limit: input.limit as number } };
    case 'amount':
      if (!isPositiveInteger(input.amount)) problems.push({ field: `${field}.amount`, problem: 'must be a whole number of minor units (cents) above 0' });
      problems.push(...currencyProblems(input.currency, `${field}.currency`));
      problems.push(...unknownKeys(input, ['type', 'amount', 'currency'], field));
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { type: 'amount', amount: input.amount as number, currency: input.currency as string } };
    default:
      return { ok: false, problems: [{ field: `${field}.type`, problem: 'must be one of none, redemptions, amount' }] };
  }
}

/** `null` or absent: no limit. */
export function validatePerCustomerLimit(input: unknown, field = 'perCustomerLimit'): Checked<PerCustomerLimit | null> {
  if (input === undefined || input === null) return { ok: true, value: null };
  if (!isObject(input)) return { ok: false, problems: [{ field, problem: 'must be an object such as { "count": 1 } or { "count": 1, "periodDays": 30 }, or null' }] };
  const problems: ApiErrorDetail[] = [];
  if (!isPositiveInteger(input.count, 1_000_000)) problems.push({ field: `${field}.count`, problem: 'must be a whole number from 1 to 1000000' });
  if (input.periodDays !== undefined && input.periodDays !== null && !isPositiveInteger(input.periodDays, 3650))
    problems.push({ field: `${field}.periodDays`, problem: 'must be a whole number of days from 1 to 3650' });
  problems.push(...unknownKeys(input, ['count', 'periodDays'], field));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { count: input.count as number, ...(typeof input.periodDays === 'number' ? { periodDays: input.periodDays } : {}) } };
}

/** Absent: no coupon needed. A shared code is stored upper-case (customers type it in any case). */
export function validateCoupons(input: unknown, field = 'coupons'): Checked<CouponHandling> {
  if (input === undefined || input === null) return { ok: true, value: { type: 'none' } };
  if (!isObject(input)) return { ok: false, problems: [{ field, problem: 'must be an object with a type (none, shared or unique)' }] };
  const problems: ApiErrorDetail[] = [];
  switch (input.type) {
    case 'none':
    case 'unique':
      problems.push(...unknownKeys(input, ['type'], field));
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { type: input.type } };
    case 'shared': {
      const code = typeof input.code === 'string' ? input.code.toUpperCase() : input.code;
      if (typeof code !== 'string' || !COUPON_CODE.test(code)) problems.push({ field: `${field}.code`, problem: 'must be 3 to 64 letters, digits, - or _, starting with a letter or digit' });
      problems.push(...unknownKeys(input, ['type', 'code'], field));
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { type: 'shared', code: code as string } };
    }
    default:
      return { ok: false, problems: [{ field: `${field}.type`, problem: 'must be one of none, shared, unique' }] };
  }
}

function stringList(input: unknown, field: string, check: (value: string) => string | undefined, maxItems = 100): Checked<string[]> {
  if (!Array.isArray(input)) return { ok: false, problems: [{ field, problem: 'must be an array of strings' }] };
  if (input.length > maxItems) return { ok: false, problems: [{ field, problem: `must have at most ${maxItems} items` }] };
  const problems: ApiErrorDetail[] = [];
  const seen = new Set<string>();
  input.forEach((item, i) => {
    const problem = typeof item !== 'string' ? 'must be a string' : seen.has(item) ? 'is listed twice' : check(item);
    if (problem) problems.push({ field: `${field}[${i}]`, problem });
    if (typeof item === 'string') seen.add(item);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: input as string[] };
}

const segmentKeyProblem = (key: string) => (key.length <= 100 && SEGMENT_KEY.test(key) ? undefined : 'must be a segment key: lower-case letters, digits, - and _, at most 100 characters');

/** An empty eligibility (`{}` or absent) means everyone. */
export function validateEligibility(input: unknown, field = 'eligibility'): Checked<OfferEligibility> {
  if (input === undefined || input === null) return { ok: true, value: {} };
  if (!isObject(input)) return { ok: false, problems: [{ field, problem: 'must be an object ({} means everyone)' }] };
  const problems: ApiErrorDetail[] = [...unknownKeys(input, ['segments', 'tiers', 'lifecycleStages'], field)];
  const eligibility: OfferEligibility = {};
  if (input.segments !== undefined) {
    if (!isObject(input.segments)) problems.push({ field: `${field}.segments`, problem: 'must be an object with anyOf, allOf and/or noneOf' });
    else {
      problems.push(...unknownKeys(input.segments, ['anyOf', 'allOf', 'noneOf'], `${field}.segments`));
      const segments: NonNullable<OfferEligibility['segments']> = {};
      for (const part of ['anyOf', 'allOf', 'noneOf'] as const) {
        if (input.segments[part] === undefined) continue;
        const checked = stringList(input.segments[part], `${field}.segments.${part}`, segmentKeyProblem);
        if (checked.ok) {
          if (checked.value.length > 0) segments[part] = checked.value;
        } else problems.push(...checked.problems);
      }
      const named = [...(segments.anyOf ?? []), ...(segments.allOf ?? [])];
      for (const key of segments.noneOf ?? [])
        if (named.includes(key)) problems.push({ field: `${field}.segments.noneOf`, problem: `excludes "${key}", which anyOf or allOf require: nobody could qualify` });
      if (Object.keys(segments).length > 0) eligibility.segments = segments;
    }
  }
  if (input.tiers !== undefined) {
    const checked = stringList(input.tiers, `${field}.tiers`, (tier) => (tier.length <= 100 && SEGMENT_KEY.test(tier) ? undefined : 'must be a tier key: lower-case letters, digits, - and _'));
    if (checked.ok) {
      if (checked.value.length > 0) eligibility.tiers = checked.value;
    } else problems.push(...checked.problems);
  }
  if (input.lifecycleStages !== undefined) {
    const checked = stringList(input.lifecycleStages, `${field}.lifecycleStages`, (stage) =>
      (LIFECYCLE_STAGES as readonly string[]).includes(stage) ? undefined : `must be one of ${LIFECYCLE_STAGES.join(', ')}`,
    );
    if (checked.ok) {
      if (checked.value.length > 0) eligibility.lifecycleStages = checked.value as OfferEligibility['lifecycleStages'];
    } else problems.push(...checked.problems);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: eligibility };
}

/** Segmentation's built-in segment of a lifecycle stage (builtin-segments.ts there): `at_risk` → `lifecycle-at-risk`. */
export const lifecycleSegmentKey = (stage: string) => `lifecycle-${stage.replace(/_/g, '-')}`;

/**
 * The key under which a customer's loyalty tier joins their memberships for eligibility (a colon:
 * never a segment key). Offers holds the tier itself (issue 19), so an upgrade counts at once.
 */
export const tierMembershipKey = (tier: string) => `tier:${tier}`;

/**
 * Every segment key an eligibility names, lifecycle stages included, sorted and without repeats:
 * what offers.segment-references announces, so segmentation refuses to delete them. Tiers are not
 * segments: offers reads a customer's tier from its own loyalty accounts (tierMembershipKey).
 */
export function referencedSegmentKeys(eligibility: OfferEligibility): string[] {
  const keys = [
    ...(eligibility.segments?.anyOf ?? []),
    ...(eligibility.segments?.allOf ?? []),
    ...(eligibility.segments?.noneOf ?? []),
    ...(eligibility.lifecycleStages ?? []).map(lifecycleSegmentKey),
  ];
  return [...new Set(keys)].sort();
}

/** Product categories the reward is restricted to; absent or null: every category. */
export function validateCategories(input: unknown, field = 'categories'): Checked<string[] | null> {
  if (input === undefined || input === null) return { ok: true, value: null };
  const checked = stringList(input, field, (category) => (category.trim() === '' ? 'must not be empty' : category.length > 100 ? 'must be at most 100 characters' : undefined), 200);
  if (!checked.ok) return checked;
  if (checked.value.length === 0) return { ok: false, problems: [{ field, problem: 'must not be empty (leave it out, or null, for every category)' }] };
  return checked;
}

/** Where the offer may be shown, from the configured list (OFFER_PLACEMENTS). */
export function validatePlacements(input: unknown, allowed: readonly string[], field = 'placements'): Checked<string[]> {
  const checked = stringList(input, field, (placement) => (allowed.includes(placement) ? undefined : `is not a known placement (allowed: ${allowed.join(', ')})`), allowed.length);
  if (!checked.ok) return checked;
  if (checked.value.length === 0) return { ok: false, problems: [{ field, problem: `must name at least one placement (allowed: ${allowed.join(', ')})` }] };
  return checked;
}

export type EligibilityVerdict = { eligible: true } | { eligible: false; problem: string };

/** The first rule of an eligibility a customer does not meet (its keys or stages), without words: the hot path asks only whether there is one. */
export type UnmetEligibility = { rule: 'anyOf' | 'allOf' | 'noneOf' | 'lifecycleStages' | 'tiers'; names: readonly string[] };

/**
 * Whether a customer meets an offer's eligibility, from their membership of the segments it names
 * (`referencedSegmentKeys`; a key not a member of counts as not a member): null when they do, else
 * the first rule they do not meet. A tier counts as a membership under tierMembershipKey.
 */
export function unmetEligibility(eligibility: OfferEligibility, member: (key: string) => boolean): UnmetEligibility | null {
  const segments = eligibility.segments;
  if (segments) {
    if (segments.anyOf && segments.anyOf.length > 0 && !segments.anyOf.some(member)) return { rule: 'anyOf', names: segments.anyOf };
    if (segments.allOf && !segments.allOf.every(member)) return { rule: 'allOf', names: segments.allOf };
    if (segments.noneOf && segments.noneOf.some(member)) return { rule: 'noneOf', names: segments.noneOf };
  }
  const stages = eligibility.lifecycleStages;
  if (stages && stages.length > 0 && !stages.some((stage) => member(lifecycleSegmentKey(stage)))) return { rule: 'lifecycleStages', names: stages };
  if (eligibility.tiers && eligibility.tiers.length > 0 && !eligibility.tiers.some((tier) => member(tierMembershipKey(tier)))) return { rule: 'tiers', names: eligibility.tiers };
  return null;
}

/** The same decision as `unmetEligibility`, with the reason for a refusal in words. */
export function eligibilityVerdict(eligibility: OfferEligibility, memberOf: Readonly<Record<string, boolean>>): EligibilityVerdict {
  const member = (key: string) => memberOf[key] === true;
  const unmet = unmetEligibility(eligibility, member);
  if (unmet === null) return { eligible: true };
  const names = unmet.names;
  const problem = {
    anyOf: () => `not a member of any of ${names.join(', ')}`,
    allOf: () => `not a member of ${names.filter((key) => !member(key)).join(', ')}`,
    noneOf: () => `a member of ${names.filter(member).join(', ')}, which the offer excludes`,
    lifecycleStages: () => `not in lifecycle stage ${names.join(' or ')}`,
    tiers: () => `not in loyalty tier ${names.join(' or ')}`,
  }[unmet.rule]();
  return { eligible: false, problem };
}
