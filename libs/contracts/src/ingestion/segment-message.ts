import { IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString } from 'class-validator';
import { SEGMENT_EVENT_TYPES, type SegmentEventType } from '../platform/streams';

/**
 * What ingestion publishes on `events.<type>` (the envelope's `data`) for every Segment call:
 * identify, track, page, screen, group and alias. `timestamp` is already corrected for the
 * client's clock skew; `receivedAt` is ingestion's clock.
 */
export class SegmentMessageV1 {
  @IsString()
  @IsNotEmpty()
  messageId!: string;

  @IsIn(SEGMENT_EVENT_TYPES)
  type!: SegmentEventType;

  /** The source whose write key sent it. */
  @IsString()
  @IsNotEmpty()
  sourceId!: string;

  @IsOptional()
  @IsString()
  userId?: string;

  @IsOptional()
  @IsString()
  anonymousId?: string;

  /** track: the event name. */
  @IsOptional()
  @IsString()
  event?: string;

  /** page/screen: the page or screen name; group: unused. */
  @IsOptional()
  @IsString()
  name?: string;

  @IsOptional()
  @IsString()
  category?: string;

  /** group: the account id. */
  @IsOptional()
  @IsString()
  groupId?: string;

  /** alias: the identity being merged into userId. */
  @IsOptional()
  @IsString()
  previousId?: string;

  @IsObject()
  properties!: Record<string, unknown>;

  @IsObject()
  traits!: Record<string, unknown>;

  @IsObject()
  context!: Record<string, unknown>;

  @IsObject()
  integrations!: Record<string, unknown>;

  /** When it happened, corrected for clock skew. */
  @IsISO8601()
  timestamp!: string;

  /** The timestamp the client sent, uncorrected. */
  @IsOptional()
  @IsISO8601()
  originalTimestamp?: string;

  @IsOptional()
  @IsISO8601()
  sentAt?: string;

  @IsISO8601()
  receivedAt!: string;
}

/** Answer of every tracking endpoint. */
export interface SegmentAcceptedResponse {
  success: true;
  /** How many messages were stored on the stream (a batch may have rejected some). */
  accepted: number;
  /** Messages of a batch that were not accepted, with the reasons; empty for single calls. */
  rejected: Array<{ index: number; messageId?: string; details: Array<{ field: string; problem: string }> }>;
}
