import { IsDefined, IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString } from 'class-validator';
import { SEGMENT_EVENT_TYPES, type SegmentEventType } from '../platform/streams';
import { InOrder, VALIDATION_MESSAGES } from '../platform/validation-messages';

const RequiredNonEmptyString = () =>
  InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsString({ message: VALIDATION_MESSAGES.string }), IsNotEmpty({ message: VALIDATION_MESSAGES.notEmpty }));

/**
 * What ingestion publishes on `events.<type>` (the envelope's `data`) for every Segment call:
 * identify, track, page, screen, group and alias. `timestamp` is already corrected for the
 * client's clock skew; `receivedAt` is ingestion's clock.
 */
export class SegmentMessageV1 {
  @RequiredNonEmptyString()
  messageId!: string;

  @IsIn(SEGMENT_EVENT_TYPES)
  type!: SegmentEventType;

  /** The source whose write key sent it. */
  @RequiredNonEmptyString()
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

/**
 * The de-duplication key of a Segment call: its messageId within its source (ADR 15). Sent as the
 * envelope id and Nats-Msg-Id by ingestion and claimed in profiles' inbox, so two sources that
 * happen to use the same messageId are two events, and a retry within one source is one.
 */
export function messageKey(message: { sourceId: string; messageId: string }): string {
  return `${message.sourceId}:${message.messageId}`;
}

/** Answer of every tracking endpoint. */
export interface SegmentAcceptedResponse {
  success: true;
  /** How many messages were stored on the stream (a batch may have rejected some). */
  accepted: number;
  /** Messages of a batch that were not accepted, with the reasons; empty for single calls. */
  rejected: Array<{ index: number; messageId?: string; details: Array<{ field: string; problem: string }> }>;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;
const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
const isDate = (value: unknown) => typeof value === 'string' && ISO_8601.test(value) && !Number.isNaN(Date.parse(value));

/**
 * The same checks as the class-validator decorators of SegmentMessageV1, written out for hot paths
 * (profiles applies thousands per second; a spec keeps the two in agreement). Returns the problems
 * as `field: problem`, empty when the value is a valid message.
 */
export function segmentMessageProblems(value: unknown): string[] {
  if (!isObject(value)) return ['message: must be an object'];
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  const missing = (field: string) => m[field] === undefined || m[field] === null;
  const optionalString = (field: string) => {
    if (m[field] !== undefined && m[field] !== null && typeof m[field] !== 'string') problems.push(`${field}: must be a string`);
  };
  for (const field of ['messageId', 'sourceId']) {
    if (missing(field)) problems.push(`${field}: is required`);
    else if (typeof m[field] !== 'string') problems.push(`${field}: must be a string`);
    else if (m[field] === '') problems.push(`${field}: must not be empty`);
  }
  if (!SEGMENT_EVENT_TYPES.includes(m.type as SegmentEventType)) problems.push(`type: must be one of ${SEGMENT_EVENT_TYPES.join(', ')}`);
  for (const field of ['userId', 'anonymousId', 'event', 'name', 'category', 'groupId', 'previousId']) optionalString(field);
  for (const field of ['properties', 'traits', 'context', 'integrations']) if (!isObject(m[field])) problems.push(`${field}: ${missing(field) ? 'is required' : 'must be an object'}`);
  for (const field of ['timestamp', 'receivedAt']) if (!isDate(m[field])) problems.push(`${field}: ${missing(field) ? 'is required' : 'must be an ISO 8601 date-time'}`);
  for (const field of ['originalTimestamp', 'sentAt']) if (m[field] !== undefined && m[field] !== null && !isDate(m[field])) problems.push(`${field}: must be an ISO 8601 date-time`);
  return problems;
}
