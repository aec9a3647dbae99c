import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsObject, IsOptional, IsUUID, Matches, Max, Min, ValidateNested } from 'class-validator';
import { CursorPageQuery } from '@segmenta/chassis';
import { InOrder, OptionalNotNull, RequiredString, StringOf, VALIDATION_MESSAGES } from '@segmenta/contracts';
import { OFFER_KEY } from '../catalog/offers.dto';
import type { RedemptionRow } from './redemptions.repository';

export class OrderAmountDto {
  @ApiProperty({ example: 12_999, description: 'The order total in integer minor units (cents).' })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsInt({ message: '$property must be a whole number of minor units (cents)' }))
  @Min(0, { message: '$property must be at least 0' })
  @Max(Number.MAX_SAFE_INTEGER, { message: '$property is too large' })
  amount!: number;

  @ApiProperty({ example: 'EUR', description: 'ISO 4217 currency code.' })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), Matches(/^[A-Z]{3}$/, { message: '$property must be an ISO 4217 currency code such as EUR or USD' }))
  currency!: string;
}

export class RedeemDto {
  @ApiProperty({ example: 'black-friday-cameras' })
  @InOrder(RequiredString(100), Matches(OFFER_KEY, { message: 'offerKey must be an offer key: lower-case letters, digits and -' }))
  offerKey!: string;

  @ApiProperty({ example: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d', description: 'The customer (a profile id).' })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsUUID('all', { message: '$property must be a profile id (a UUID)' }))
  profileId!: string;

  @ApiPropertyOptional({ example: 'BF26-7KQ2M9XH', description: 'The coupon code the customer typed (any case); required by offers with shared or unique codes, refused by offers without.' })
  @OptionalNotNull()
  @StringOf(64)
  code?: string;

  @ApiPropertyOptional({ example: 'order-20261127-0042', description: "The shop's order id, kept with the redemption." })
  @OptionalNotNull()
  @StringOf(200)
  orderId?: string;

  @ApiPropertyOptional({
    type: OrderAmountDto,
    description: 'The order total: a percent reward is worth its share of it, a fixed amount is capped at it; required when a percent reward counts against a money budget.',
  })
  @OptionalNotNull()
  @IsObject({ message: '$property must be an object { amount, currency }' })
  @ValidateNested()
  @Type(() => OrderAmountDto)
  orderAmount?: OrderAmountDto;
}

export const REDEMPTION_STATUSES = ['redeemed', 'cancelled'] as const;

export class ListRedemptionsQueryDto extends CursorPageQuery({ defaultLimit: 100, maxLimit: 1000 }) {
  @ApiPropertyOptional({ enum: REDEMPTION_STATUSES })
  @IsOptional()
  @IsIn(REDEMPTION_STATUSES, { message: `status must be one of ${REDEMPTION_STATUSES.join(', ')}` })
  status?: RedemptionRow['status'];
}

export interface RedemptionResponse {
  id: string;
  offerId: string;
  offerKey: string;
  profileId: string;
  code: string | null;
  orderId: string | null;
  orderAmount: { amount: number; currency: string } | null;
  /** value: minor units of currency; null when the reward has no money value. */
  reward: { type: string; value: number | null; currency: string | null };
  /** What it took from the offer's budget (and a cancel gives back): redemptions or minor units. */
  budget: { type: RedemptionRow['budgetKind']; units: number };
  status: RedemptionRow['status'];
  redeemedAt: string;
  cancelledAt: string | null;
}

/** `seq` (given by the database) is the listing's cursor only: no answer carries it. */
export function toRedemptionResponse(row: Omit<RedemptionRow, 'seq'>): RedemptionResponse {
  return {
    id: row.id,
    offerId: row.offerId,
    offerKey: row.offerKey,
    profileId: row.profileId,
    code: row.code,
    orderId: row.orderId,
    orderAmount: row.orderAmount !== null && row.orderCurrency !== null ? { amount: row.orderAmount, currency: row.orderCurrency } : null,
    reward: { type: row.rewardType, value: row.rewardValue, currency: row.rewardCurrency },
    budget: { type: row.budgetKind, units: row.budgetUnits },
    status: row.status,
    redeemedAt: row.redeemedAt.toISOString(),
    cancelledAt: row.cancelledAt ? row.cancelledAt.toISOString() : null,
  };
}

export const REDEMPTION_EXAMPLE: RedemptionResponse = {
  id: '5d0c9a8e-1c2b-4f3a-9e8d-7c6b5a4f3e2d',
  offerId: '0b9f8c52-3a55-4d1e-9a4e-2f7c5d7f1a10',
  offerKey: 'black-friday-cameras',
  profileId: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d',
  code: 'BF26-7KQ2M9XH',
  orderId: 'order-20261127-0042',
  orderAmount: { amount: 12_999, currency: 'EUR' },
  reward: { type: 'percent_off', value: 1300, currency: 'EUR' },
  budget: { type: 'amount', units: 1300 },
  status: 'redeemed',
  redeemedAt: '2026-11-27T10:00:00.000Z',
  cancelledAt: null,
};
