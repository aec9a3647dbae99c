import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsObject, IsOptional, IsString, ValidateIf } from 'class-validator';
import { RequiredArray, RequiredString, SEGMENT_EVENT_TYPES, StringOf, type SegmentAcceptedResponse, type SegmentEventType } from '@segmenta/contracts';

const ID_REQUIRED = 'userId or anonymousId is required';
const objectSchema = { type: 'object', additionalProperties: true } as const;

/** Fields a single call and a batch share; in a batch they are the defaults of its members. */
class SharedCallFieldsDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'When the client sent it.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'sentAt must be an ISO-8601 date-time' })
  sentAt?: string;

  @ApiPropertyOptional(objectSchema)
  @IsOptional()
  @IsObject()
  context?: Record<string, unknown>;

  @ApiPropertyOptional(objectSchema)
  @IsOptional()
  @IsObject()
  integrations?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Alternative to Basic auth.' })
  @IsOptional()
  @IsString()
  writeKey?: string;
}

/** Fields every Segment call shares (https://segment.com/docs/connections/spec/common/). */
export class SegmentCallDto extends SharedCallFieldsDto {
  @ApiPropertyOptional({ description: 'Idempotency key: a repeated messageId is stored once. Generated when absent.' })
  @IsOptional()
  @StringOf(200)
  messageId?: string;

  @ApiPropertyOptional({ enum: SEGMENT_EVENT_TYPES, description: 'Required inside a batch; implied by the endpoint otherwise.' })
  @IsOptional()
  @IsIn(SEGMENT_EVENT_TYPES)
  type?: SegmentEventType;

  @ApiPropertyOptional({ description: 'userId or anonymousId is required.' })
  @ValidateIf((o: SegmentCallDto) => o.anonymousId === undefined || o.userId !== undefined)
  @RequiredString(200, { requiredMessage: ID_REQUIRED })
  userId?: string;

  @ApiPropertyOptional({ description: 'userId or anonymousId is required.' })
  @ValidateIf((o: SegmentCallDto) => o.userId === undefined || o.anonymousId !== undefined)
  @RequiredString(200, { requiredMessage: ID_REQUIRED })
  anonymousId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When it happened on the client; corrected for clock skew with sentAt.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'timestamp must be an ISO-8601 date-time' })
  timestamp?: string;
}

export class IdentifyDto extends SegmentCallDto {
  @ApiPropertyOptional(objectSchema)
  @IsOptional()
  @IsObject()
  traits?: Record<string, unknown>;
}

export class TrackDto extends SegmentCallDto {
  @ApiProperty({ example: 'Order Completed' })
  @RequiredString(200)
  event!: string;

  @ApiPropertyOptional(objectSchema)
  @IsOptional()
  @IsObject()
  properties?: Record<string, unknown>;
}

export class PageDto extends SegmentCallDto {
  @ApiPropertyOptional()
  @IsOptional()
  @StringOf(500, { allowEmpty: true })
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @StringOf(200, { allowEmpty: true })
  category?: string;

  @ApiPropertyOptional(objectSchema)
  @IsOptional()
  @IsObject()
  properties?: Record<string, unknown>;
}

export class ScreenDto extends PageDto {}

export class GroupDto extends SegmentCallDto {
  @ApiProperty()
  @RequiredString(200)
  groupId!: string;

  @ApiPropertyOptional(objectSchema)
  @IsOptional()
  @IsObject()
  traits?: Record<string, unknown>;
}

export class AliasDto extends SegmentCallDto {
  @ApiProperty({ description: 'The identity being merged into userId.' })
  @RequiredString(200)
  previousId!: string;
}

export type SegmentCall = IdentifyDto | TrackDto | PageDto | ScreenDto | GroupDto | AliasDto;

/** The DTO class that validates each message type (also for the members of a batch). */
export const CALL_DTO_BY_TYPE: Record<SegmentEventType, new () => SegmentCall> = {
  identify: IdentifyDto,
  track: TrackDto,
  page: PageDto,
  screen: ScreenDto,
  group: GroupDto,
  alias: AliasDto,
};

export class BatchDto extends SharedCallFieldsDto {
  @ApiProperty({ type: 'array', items: objectSchema, description: 'Messages of any type, each with `type`.' })
  @RequiredArray(2500)
  batch!: Array<Record<string, unknown>>;
}

class RejectedMessageDto {
  @ApiProperty() index!: number;
  @ApiPropertyOptional() messageId?: string;
  @ApiProperty({ type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, problem: { type: 'string' } } } })
  details!: Array<{ field: string; problem: string }>;
}

export class AcceptedResponseDto implements SegmentAcceptedResponse {
  @ApiProperty({ enum: [true] }) success!: true;
  @ApiProperty({ description: 'Messages stored durably on the EVENTS stream.' }) accepted!: number;
  @ApiProperty({ type: [RejectedMessageDto], description: 'Members of a batch that were not accepted.' })
  rejected!: RejectedMessageDto[];
}
