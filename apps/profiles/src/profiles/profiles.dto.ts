import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { CursorPageQuery } from '@segmenta/chassis';
import { EventResponseDto } from '../events/events.dto';

export class IdentityDto {
  @ApiProperty({ example: 'email', description: 'user_id, email, phone, anonymous_id or custom:<type>' }) kind!: string;
  @ApiProperty() value!: string;
}

export class ProfileResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) traits!: Record<string, unknown>;
  @ApiProperty({ type: [IdentityDto] }) identities!: IdentityDto[];
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Computed features (first/last seen, orders, revenue in minor units, AOV, recency, tenure, RFM, category affinity, lifecycle stage, …)',
  })
  features!: Record<string, unknown>;
  @ApiProperty({ type: [String], description: 'Profiles merged into this one' }) mergedProfileIds!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class ProfileLookupQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(512) userId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(512) email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(512) anonymousId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(64) phone?: string;
}

export class EventsPageQueryDto extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {}

export class EventsPageDto {
  @ApiProperty({ type: [EventResponseDto] }) items!: EventResponseDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as ?cursor= for the next (older) page; null on the last page' }) nextCursor!: string | null;
}

export class MergeRecordDto {
  @ApiProperty() id!: number;
  @ApiProperty({ format: 'uuid' }) fromProfileId!: string;
  @ApiProperty({ format: 'uuid' }) intoProfileId!: string;
  @ApiProperty({ enum: ['merged', 'refused'] }) status!: string;
  @ApiProperty({ description: 'The call that linked them' }) reason!: string;
  @ApiProperty({ description: 'kind:value both profiles were found through' }) identifier!: string;
  @ApiPropertyOptional({ type: String, nullable: true }) eventId!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Why a merge was refused' }) detail!: string | null;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class ErasureResponseDto {
  @ApiProperty({ format: 'uuid' }) profileId!: string;
  @ApiProperty({ type: [String] }) mergedProfileIds!: string[];
  @ApiProperty() eventsDeleted!: number;
  @ApiProperty() identitiesDeleted!: number;
  @ApiProperty({ format: 'date-time' }) erasedAt!: string;
}

export class RecomputeRequestDto {
  @ApiPropertyOptional({ enum: ['refresh', 'full'], default: 'refresh', description: 'refresh: time-dependent features and RFM quintiles; full: rebuild every profile from its events first' })
  @IsOptional()
  @IsIn(['refresh', 'full'])
  mode?: 'refresh' | 'full';
}

export class BlockedIdentifierDto {
  @ApiProperty({ example: 'anonymous_id' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  kind!: string;

  @ApiProperty({ example: '00000000-0000-0000-0000-000000000000' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  value!: string;

  @ApiPropertyOptional({ example: 'shared kiosk device' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class PropensityLabelDto {
  @ApiPropertyOptional({ example: 'churned', description: 'A trait holding yes/no (1/0, true/false): profiles with it train and test the model' })
  @IsOptional()
  @IsString({ message: 'must be a trait name' })
  @Length(1, 100, { message: 'must be 1 to 100 characters' })
  trait?: string;

  @ApiPropertyOptional({ example: 30, description: 'Instead of a trait: whether the customer orders within this many days (trained on features as of that many days ago)' })
  @IsOptional()
  @IsInt({ message: 'must be a whole number of days' })
  @Min(1, { message: 'must be at least 1' })
  @Max(365, { message: 'must be at most 365' })
  ordersWithinDays?: number;
}

export class TrainPropensityDto {
  @ApiProperty({ example: 'churn', description: 'Model name; the scores become the feature propensity_<name>' })
  @Matches(/^[a-z][a-z0-9_]{0,39}$/, { message: 'must be lower-case letters, digits and _ (the feature is propensity_<name>)' })
  name!: string;

  @ApiProperty({ type: PropensityLabelDto })
  @IsObject({ message: 'must be an object such as {"trait": "churned"}' })
  @ValidateNested()
  @Type(() => PropensityLabelDto)
  label!: PropensityLabelDto;

  @ApiPropertyOptional({ default: 1, description: 'L2 penalty on the standardised weights' })
  @IsOptional()
  @IsNumber({}, { message: 'must be a number' })
  @Min(0, { message: 'must be at least 0' })
  l2?: number;
}
