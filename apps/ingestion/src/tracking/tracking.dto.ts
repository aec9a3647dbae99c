import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import type { TrackAcceptedResponse } from '@segmenta/contracts';

const ID_MESSAGE = 'userId or anonymousId must be a non-empty string (at least one is required)';

/**
 * Body of `POST /v1/track` (Segment spec: the subset the first slice needs; the full spec,
 * auth and batch come with the ingestion issue).
 */
export class TrackEventDto {
  @ApiPropertyOptional({ description: 'Idempotency key: a repeated messageId is stored once.' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  messageId?: string;

  @ApiPropertyOptional()
  @ValidateIf((o: TrackEventDto) => o.anonymousId === undefined || o.userId !== undefined)
  @IsString({ message: ID_MESSAGE })
  @IsNotEmpty({ message: ID_MESSAGE })
  @MaxLength(200)
  userId?: string;

  @ApiPropertyOptional()
  @ValidateIf((o: TrackEventDto) => o.userId === undefined || o.anonymousId !== undefined)
  @IsString({ message: ID_MESSAGE })
  @IsNotEmpty({ message: ID_MESSAGE })
  @MaxLength(200)
  anonymousId?: string;

  @ApiProperty({ example: 'Order Completed' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  event!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  properties?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  context?: Record<string, unknown>;

  @ApiPropertyOptional({ type: String, format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'timestamp must be an ISO-8601 date-time' })
  timestamp?: Date;
}

export class TrackAcceptedResponseDto implements TrackAcceptedResponse {
  @ApiProperty({ enum: [true] })
  success!: true;

  @ApiProperty()
  messageId!: string;
}
