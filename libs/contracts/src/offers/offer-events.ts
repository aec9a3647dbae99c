import { ArrayMaxSize, IsArray, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Length, Matches, Min } from 'class-validator';

/** What a redemption gave, as offers records it; money in integer minor units of `currency`. */
export const OFFER_REWARD_TYPES = ['percent_off', 'amount_off', 'free_shipping', 'bonus_points', 'points_multiplier', 'gift'] as const;
export type OfferRewardType = (typeof OFFER_REWARD_TYPES)[number];

/**
 * `offers.redeemed`: a customer redeemed an offer (written to the outbox in the redemption's
 * transaction). `rewardValue` is the money the reward is worth on this order in minor units of
 * `rewardCurrency` (percent of the order amount, or the fixed amount capped at the order), null for
 * rewards without a money value (free shipping, points, gifts) or a percent reward without an order amount.
 */
export class OfferRedeemedV1 {
  @IsUUID()
  redemptionId!: string;

  @IsUUID()
  offerId!: string;

  @IsString()
  @Length(1, 100)
  offerKey!: string;

  @IsUUID()
  profileId!: string;

  /** The coupon code used (upper-case), null when the offer needs none. */
  @IsOptional()
  @IsString()
  code!: string | null;

  @IsOptional()
  @IsString()
  orderId!: string | null;

  /** Minor units of orderCurrency. */
  @IsOptional()
  @IsInt()
  @Min(0)
  orderAmount!: number | null;

  @IsOptional()
  @Matches(/^[A-Z]{3}$/)
  orderCurrency!: string | null;

  @IsIn(OFFER_REWARD_TYPES)
  rewardType!: OfferRewardType;

  @IsOptional()
  @IsInt()
  @Min(0)
  rewardValue!: number | null;

  @IsOptional()
  @Matches(/^[A-Z]{3}$/)
  rewardCurrency!: string | null;

  @IsISO8601()
  at!: string;
}

export const BUDGET_ALERT_THRESHOLDS = [80, 100] as const;
export type BudgetAlertThreshold = (typeof BUDGET_ALERT_THRESHOLDS)[number];

/**
 * `offers.budget_alert`: a redemption took an offer's budget across a threshold (80 % or 100 %
 * of `total`). Sent once per upward crossing; a cancel that drops the budget below a threshold lets a
 * later redemption cross it, and alert, again (ADR 20).
 */
export class OfferBudgetAlertV1 {
  @IsUUID()
  offerId!: string;

  @IsString()
  @Length(1, 100)
  offerKey!: string;

  @IsIn(BUDGET_ALERT_THRESHOLDS)
  threshold!: BudgetAlertThreshold;

  /** Redemptions, or minor units of `currency`. */
  @IsIn(['redemptions', 'amount'])
  budgetType!: 'redemptions' | 'amount';

  @IsInt()
  @Min(0)
  used!: number;

  @IsInt()
  @Min(1)
  total!: number;

  /** The currency of an amount budget; null for a budget of redemptions. */
  @IsOptional()
  @Matches(/^[A-Z]{3}$/)
  currency!: string | null;

  /** The redemption that crossed the threshold. */
  @IsUUID()
  redemptionId!: string;

  @IsISO8601()
  at!: string;
}

/** How the app named the customer it asked offers for. */
export const CUSTOMER_IDENTIFIER_KINDS = ['profile_id', 'user_id', 'anonymous_id', 'email'] as const;
export type CustomerIdentifierKind = (typeof CUSTOMER_IDENTIFIER_KINDS)[number];

/** One offer of an offers.served answer, in the order it was shown. */
export interface ServedOfferV1 {
  offerId: string;
  offerKey: string;
}

/** Most offers one answer serves (the API's largest `limit`). */
export const MAX_SERVED_OFFERS = 50;

/**
 * `offers.served`: the personalized offers API answered an app (an exposure), written to the outbox
 * in the answer's transaction; an empty answer is an exposure too. `profileId` is the profile the
 * identifier resolved to, null for an unknown visitor; `identifier` is what the app asked with.
 * Offers appear in the order shown (`offers[0]` first). Nested items are validated by consumers
 * (contracts carry no class-transformer).
 */
export class OfferServedV1 {
  /** This answer's id (also the envelope's): one exposure, counted once. */
  @IsUUID()
  servedId!: string;

  @IsOptional()
  @IsUUID()
  profileId!: string | null;

  @IsObject()
  identifier!: { kind: CustomerIdentifierKind; value: string };

  /** The placement asked for; null when the app asked for every placement. */
  @IsOptional()
  @IsString()
  @Length(1, 40)
  placement!: string | null;

  @IsArray()
  @ArrayMaxSize(MAX_SERVED_OFFERS)
  offers!: ServedOfferV1[];

  /** The running experiments on this placement the customer is in, with their variant: each an exposure (experiments keeps the first). */
  @IsOptional()
  @IsArray()
  experiments?: ServedExperimentV1[];

  @IsISO8601()
  at!: string;
}

/** An experiment a served customer is in, and the variant whose offers they were served. */
export interface ServedExperimentV1 {
  experimentId: string;
  key: string;
  variant: string;
}
