import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, IsUUID, Length, Matches, Max, Min, NotEquals, ValidateIf, ValidateNested } from 'class-validator';
import { CursorPageQuery } from '@segmenta/chassis';
import { OFFER_KEY } from '../catalog/offers.dto';
import { EARN_RULE_TYPES, type EarnRuleDefinition } from './earning';

/** Points in one request: a whole number up to ten million. */
const MAX_POINTS = 10_000_000;

export class RedeemPointsDto {
  @ApiProperty({ example: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d' })
  @IsUUID(undefined, { message: 'must be a profile id (a UUID)' })
  profileId!: string;

  @ApiProperty({ example: 500, minimum: 1 })
  @IsInt({ message: 'must be a whole number of points' })
  @Min(1)
  @Max(MAX_POINTS)
  points!: number;

  @ApiPropertyOptional({ example: 'order-1042', description: 'The order the points pay towards, for the history.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  orderId?: string;
}

export class AdjustPointsDto {
  @ApiProperty({ example: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d' })
  @IsUUID(undefined, { message: 'must be a profile id (a UUID)' })
  profileId!: string;

  @ApiProperty({ example: 250, description: 'Points to add (positive) or take away (negative) from the available balance.' })
  @IsInt({ message: 'must be a whole number of points' })
  @NotEquals(0, { message: 'must not be 0' })
  @Min(-MAX_POINTS)
  @Max(MAX_POINTS)
  points!: number;

  @ApiProperty({ example: 'Goodwill: parcel arrived late (ticket 8812)' })
  @IsString()
  @IsNotEmpty({ message: 'is required: say why, for the audit trail' })
  @Length(1, 500)
  reason!: string;
}

export class LoyaltyHistoryQueryDto extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {}

/** An earn rule's definition, validated per type. */
export class EarnRuleDefinitionDto {
  @ApiProperty({ enum: EARN_RULE_TYPES })
  @IsIn(EARN_RULE_TYPES)
  type!: EarnRuleDefinition['type'];

  @ApiPropertyOptional({ example: 'EUR', description: 'base: the currency whose whole units earn pointsPerUnit.' })
  @ValidateIf((o: EarnRuleDefinitionDto) => o.type === 'base')
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as EUR' })
  currency?: string;

  @ApiPropertyOptional({ example: 1, description: 'base: points per whole unit of currency (fractions allowed: 0.5 is a point per two euros).' })
  @ValidateIf((o: EarnRuleDefinitionDto) => o.type === 'base')
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(10_000)
  pointsPerUnit?: number;

  @ApiPropertyOptional({ example: 'camera-fans', description: 'segment_multiplier: the segment key.' })
  @ValidateIf((o: EarnRuleDefinitionDto) => o.type === 'segment_multiplier')
  @Matches(OFFER_KEY, { message: 'must be a segment key' })
  segment?: string;

  @ApiPropertyOptional({ example: 'cameras', description: 'category_multiplier: the product category (compared without case).' })
  @ValidateIf((o: EarnRuleDefinitionDto) => o.type === 'category_multiplier')
  @IsString()
  @Length(1, 100)
  category?: string;

  @ApiPropertyOptional({ example: 'Product Reviewed', description: 'event_bonus: the track event name that earns the bonus.' })
  @ValidateIf((o: EarnRuleDefinitionDto) => o.type === 'event_bonus')
  @IsString()
  @Length(1, 200)
  event?: string;

  @ApiPropertyOptional({ example: 50, description: 'event_bonus, first_order_bonus, birthday_bonus: the bonus points.' })
  @ValidateIf((o: EarnRuleDefinitionDto) => o.type === 'event_bonus' || o.type === 'first_order_bonus' || o.type === 'birthday_bonus')
  @IsInt({ message: 'must be a whole number of points' })
  @Min(1)
  @Max(1_000_000)
  points?: number;

  @ApiPropertyOptional({ default: false, description: 'event_bonus: only the first such event of a customer earns.' })
  @IsOptional()
  @IsBoolean()
  oncePerCustomer?: boolean;

  @ApiPropertyOptional({ default: 'birthday', description: 'birthday_bonus: the identify trait holding the date of birth (1990-05-17, or 05-17).' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  trait?: string;

  @ApiPropertyOptional({ example: 2, description: 'segment_multiplier, category_multiplier: at least 1.' })
  @ValidateIf((o: EarnRuleDefinitionDto) => o.type === 'segment_multiplier' || o.type === 'category_multiplier')
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(100)
  multiplier?: number;
}

export class EarnRuleBodyDto {
  @ApiProperty({ example: 'Camera fans earn double' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ type: EarnRuleDefinitionDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => EarnRuleDefinitionDto)
  rule!: EarnRuleDefinitionDto;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class CreateEarnRuleDto extends EarnRuleBodyDto {
  @ApiProperty({ example: 'camera-fans-double' })
  @Length(1, 100)
  @Matches(OFFER_KEY, { message: 'must be lower-case letters, digits and hyphens, starting with a letter or digit' })
  key!: string;
}

export class LoyaltyProgramDto {
  @ApiProperty({ example: 14, description: 'Days an order’s points stay pending (returns) before they can be spent; 0: at once.' })
  @IsInt()
  @Min(0)
  @Max(365)
  returnWindowDays!: number;

  @ApiPropertyOptional({ example: 5000, nullable: true, description: 'Most points one order earns; null: no cap.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  capPerOrder!: number | null;

  @ApiPropertyOptional({ example: 10000, nullable: true, description: 'Most points a customer earns per day (UTC); null: no cap.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  capPerDay!: number | null;

  @ApiPropertyOptional({ example: 365, nullable: true, description: 'Days after they were earned that points expire, oldest first; null: never.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  expireAfterDays?: number | null;

  @ApiPropertyOptional({ example: 30, default: 30, description: 'Days before points expire that loyalty.points_expiring is published.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(365)
  expiringNoticeDays?: number;

  @ApiPropertyOptional({ example: 365, default: 365, description: 'The rolling window tiers qualify in (points earned or spend), in days.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  tierWindowDays?: number;

  @ApiPropertyOptional({ example: 30, default: 30, description: 'Days after a review date a customer who no longer qualifies keeps the tier.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(365)
  tierGraceDays?: number;
}

export class TierSpendDto {
  @ApiProperty({ example: 1000 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  amount!: number;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as EUR' })
  currency!: string;
}

/** A tier: qualifies by points earned in the window, or by spend, or either (at least one). */
export class TierDto {
  @ApiProperty({ example: 'Gold' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiProperty({ example: 3, description: 'Higher ranks are better tiers; each rank belongs to one tier.' })
  @IsInt()
  @Min(0)
  @Max(1000)
  rank!: number;

  @ApiPropertyOptional({ example: 5000, nullable: true, description: 'Points earned in the window that qualify.' })
  @ValidateIf((o: TierDto) => o.minPoints !== undefined || o.minSpend === undefined || o.minSpend === null)
  @IsInt({ message: 'must be a whole number of points (give minPoints, minSpend or both)' })
  @Min(0)
  minPoints?: number | null;

  @ApiPropertyOptional({ type: TierSpendDto, nullable: true, description: 'Spend in the window that qualifies.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => TierSpendDto)
  minSpend?: TierSpendDto | null;
}

/** Only the fields of the rule's type are kept. */
export function earnRuleDefinition(dto: EarnRuleDefinitionDto): EarnRuleDefinition {
  switch (dto.type) {
    case 'base':
      return { type: 'base', currency: dto.currency as string, pointsPerUnit: dto.pointsPerUnit as number };
    case 'segment_multiplier':
      return { type: 'segment_multiplier', segment: dto.segment as string, multiplier: dto.multiplier as number };
    case 'category_multiplier':
      return { type: 'category_multiplier', category: dto.category as string, multiplier: dto.multiplier as number };
    case 'event_bonus':
      return { type: 'event_bonus', event: dto.event as string, points: dto.points as number, oncePerCustomer: dto.oncePerCustomer ?? false };
    case 'first_order_bonus':
      return { type: 'first_order_bonus', points: dto.points as number };
    case 'birthday_bonus':
      return { type: 'birthday_bonus', points: dto.points as number, trait: dto.trait ?? 'birthday' };
  }
}

export const LOYALTY_EXAMPLE = {
  profileId: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d',
  available: 1250,
  pending: 300,
  lifetimeEarned: 2100,
  tier: { key: 'silver', name: 'Silver', since: '2026-11-02T10:00:00.000Z', reviewAt: '2027-11-02T10:00:00.000Z' },
  nextTier: { key: 'gold', name: 'Gold', pointsToGo: 2900, spendToGo: { amount: 1150, currency: 'EUR' } },
  qualifying: { windowDays: 365, points: 2100, spend: { EUR: 850 } },
  pendingPoints: [{ points: 300, availableAt: '2026-12-17T10:00:00.000Z' }],
  expiringSoon: [{ points: 120, expiresAt: '2026-12-20T09:12:00.000Z' }],
  history: [
    {
      entryId: 42,
      kind: 'earn',
      availableDelta: 0,
      pendingDelta: 300,
      cause: 'order:order-1042',
      orderId: 'order-1042',
      reason: null,
      details: { currency: 'EUR', revenue: 150, pointsPerUnit: 1, basePoints: 150, categoryBonus: 0, segment: 'camera-fans', segmentMultiplier: 2, cappedAt: null },
      at: '2026-12-03T10:00:00.000Z',
    },
  ],
  nextCursor: null,
};
