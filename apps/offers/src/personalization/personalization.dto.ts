import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { StringOf } from '@segmenta/contracts';
import type { CouponHandling, OfferReward } from '../catalog/offer-rules';
import { OFFER_EXAMPLE, type OfferResponse } from '../catalog/offers.dto';
import type { OfferRow } from '../catalog/offers.repository';

export const DEFAULT_OFFERS_LIMIT = 10;
export const MAX_OFFERS_LIMIT = 50;

export class CustomerOffersQueryDto {
  @ApiPropertyOptional({ example: 'home_banner', description: 'Only offers shown there (a name from OFFER_PLACEMENTS); absent: every placement.' })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9_]{0,39}$/, { message: 'placement must be a placement name: lower-case letters, digits and _' })
  placement?: string;

  @ApiPropertyOptional({ default: DEFAULT_OFFERS_LIMIT, minimum: 1, maximum: MAX_OFFERS_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(MAX_OFFERS_LIMIT, { message: `limit must be at most ${MAX_OFFERS_LIMIT}` })
  limit?: number;
}

/** GET /v1/customers/offers: exactly one of userId, anonymousId, email names the customer. */
export class CustomerOffersByIdentifierQueryDto extends CustomerOffersQueryDto {
  @ApiPropertyOptional({ example: 'user-42', description: "The app's user id (profiles' identifier user_id)." })
  @IsOptional()
  @StringOf(200)
  userId?: string;

  @ApiPropertyOptional({ example: 'anon-7f3c', description: 'The anonymous id of a visitor (identifier anonymous_id).' })
  @IsOptional()
  @StringOf(200)
  anonymousId?: string;

  @ApiPropertyOptional({ example: 'ann@example.com', description: 'The e-mail address (compared lower-case).' })
  @IsOptional()
  @StringOf(320)
  email?: string;
}

export class MatrixQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'csv: a spreadsheet (also with Accept: text/csv); json by default.' })
  @IsOptional()
  @IsIn(['json', 'csv'], { message: 'format must be json or csv' })
  format?: 'json' | 'csv';
}

/** One offer as the app shows it: the catalog's customer-facing fields, and what applies to this customer. */
export interface PersonalizedOffer extends Pick<OfferResponse, 'id' | 'key' | 'name' | 'description' | 'reward' | 'categories' | 'placements' | 'priority'> {
  /** The end of the validity window (UTC), null: no end. */
  endsAt: string | null;
  /** null: the offer needs no code. */
  coupon: { type: 'shared' | 'unique'; code: string } | null;
  /** Why the customer gets it, in words a loyalty team recognises. */
  reasons: string[];
  /** What the reward is worth to this customer in minor units, weighted by their redemption propensity: the ranking's second key. */
  expectedValue: number;
}

export interface PersonalizedOffersResponse {
  servedId: string;
  /** null: no profile is known for the identifier (an unknown visitor gets offers for everyone). */
  profileId: string | null;
  placement: string | null;
  offers: PersonalizedOffer[];
  /** true: the customer is in the programme holdout (issue 22) and gets no personalized offers. */
  heldOut?: true;
}

export function toPersonalizedOffer(offer: OfferRow, coupon: PersonalizedOffer['coupon'], reasons: string[], expectedValue: number): PersonalizedOffer {
  return {
    id: offer.id,
    key: offer.key,
    name: offer.name,
    description: offer.description,
    reward: offer.reward,
    categories: offer.categories,
    placements: offer.placements,
    priority: offer.priority,
    endsAt: offer.endsAt?.toISOString() ?? null,
    coupon,
    reasons,
    expectedValue: Math.round(expectedValue),
  };
}

export const sharedCode = (coupons: CouponHandling): string | null => (coupons.type === 'shared' ? coupons.code : null);

export const PERSONALIZED_EXAMPLE: PersonalizedOffersResponse = {
  servedId: '0192f0d1-7a2b-7c3d-8e4f-5a6b7c8d9e0f',
  profileId: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d',
  placement: 'home_banner',
  offers: [
    {
      id: OFFER_EXAMPLE.id,
      key: OFFER_EXAMPLE.key,
      name: OFFER_EXAMPLE.name,
      description: OFFER_EXAMPLE.description,
      reward: OFFER_EXAMPLE.reward as OfferReward,
      categories: OFFER_EXAMPLE.categories,
      placements: OFFER_EXAMPLE.placements,
      priority: OFFER_EXAMPLE.priority,
      endsAt: OFFER_EXAMPLE.endsAtUtc,
      coupon: { type: 'unique', code: 'BF26-7KQ2M9XH4T' },
      reasons: ['member of Camera intent', 'lifecycle stage at risk'],
      expectedValue: 420,
    },
    {
      id: '5d1e0b9f-3a55-4d1e-9a4e-2f7c8c52a110',
      key: 'welcome-5',
      name: '5 € off your next order',
      description: 'For everyone, once.',
      reward: { type: 'amount_off', amount: 500, currency: 'EUR' },
      categories: null,
      placements: ['home_banner'],
      priority: 0,
      endsAt: null,
      coupon: { type: 'shared', code: 'WELCOME5' },
      reasons: ['everyone'],
      expectedValue: 500,
    },
  ],
};

export const MATRIX_EXAMPLE = {
  segments: [null, 'camera-intent'],
  segmentNames: { 'camera-intent': 'Camera intent' },
  lifecycleStages: ['prospect', 'new', 'active', 'loyal', 'at_risk', 'lapsed'],
  cells: [
    { segment: null, segmentName: null, lifecycleStage: 'at_risk', offers: [{ key: 'welcome-5', name: '5 € off your next order' }], journeys: [] },
    {
      segment: 'camera-intent',
      segmentName: 'Camera intent',
      lifecycleStage: 'at_risk',
      offers: [
        { key: 'black-friday-cameras', name: 'Black Friday: 10% off cameras' },
        { key: 'welcome-5', name: '5 € off your next order' },
      ],
      journeys: [{ key: 'camera-fans-10', name: 'Camera fans: 10 % off, once' }],
    },
  ],
};
