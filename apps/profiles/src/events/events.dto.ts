import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { StoredEvent } from './events.repository';

export class EventLookupQueryDto {
  @ApiPropertyOptional({ description: 'The source that sent it: messageIds are unique per source (ADR 15); without it, the first stored event with this messageId.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  sourceId?: string;
}

export class EventResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['identify', 'track', 'page', 'screen', 'group', 'alias'] }) type!: string;
  @ApiPropertyOptional({ type: String, nullable: true }) name!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'The profile identity resolution attached it to (null when all its identifiers are blocked)' }) profileId!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) userId!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) anonymousId!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) sourceId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) properties!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) traits!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time' }) receivedAt!: string;
  @ApiProperty({ format: 'date-time' }) storedAt!: string;

  static from(event: StoredEvent): EventResponseDto {
    return {
      id: event.id,
      type: event.type,
      name: event.name,
      profileId: event.profileId,
      userId: event.userId,
      anonymousId: event.anonymousId,
      sourceId: event.sourceId,
      properties: event.properties,
      traits: event.traits,
      occurredAt: event.occurredAt.toISOString(),
      receivedAt: event.receivedAt.toISOString(),
      storedAt: event.storedAt.toISOString(),
    };
  }
}
