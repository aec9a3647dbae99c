import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { validateSync } from 'class-validator';
import { PayloadTooLargeError, UnavailableError, ValidationFailedError, validationDetails } from '@segmenta/chassis';
import {
  SEGMENT_EVENT_TYPES,
  compileValidityCheck,
  findUnstorableText,
  messageKey,
  SUBJECTS,
  type ApiErrorDetail,
  type SegmentAcceptedResponse,
  type SegmentEventType,
  type SegmentMessageV1,
} from '@segmenta/contracts';
import { JetStreamClient, createEnvelope } from '@segmenta/messaging';
import type { Source } from '../sources/sources.repository';
import { correctedTimestamp } from './clock-skew';
import { BatchDto, CALL_DTO_BY_TYPE, type SegmentCall } from './tracking.dto';

/** Segment's limit for one message; a batch is limited to 500 KB by the body parser. */
export const MAX_MESSAGE_BYTES = 32 * 1024;

interface BatchDefaults {
  sentAt?: string;
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
}

const byteLength = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

/** The DTOs' decorators compiled into plain checks; class-validator runs only to explain a rejection. */
const BATCH_CHECK = compileValidityCheck(BatchDto);
const CALL_CHECKS = Object.fromEntries(Object.entries(CALL_DTO_BY_TYPE).map(([type, dto]) => [type, compileValidityCheck(dto)])) as Record<SegmentEventType, ReturnType<typeof compileValidityCheck>>;
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const badRequest = (details: ApiErrorDetail[]) => ValidationFailedError.of(details);

/** The batch's own fields (not its members), checked as the global pipe would, without copying the body. */
function checkedBatch(body: unknown): BatchDto {
  if (!isPlainObject(body)) throw badRequest([{ field: 'body', problem: 'must be a JSON object with a batch array' }]);
  // The global StorableTextPipe skips this unchecked body: its shared fields are checked here, each member below.
  const unstorable = findUnstorableText({ ...body, batch: undefined });
  if (unstorable) throw badRequest([unstorable]);
  const batch = Object.assign(new BatchDto(), body);
  if (!BATCH_CHECK || !BATCH_CHECK(batch as unknown as Record<string, unknown>)) {
    const details = validationDetails(validateSync(batch, { forbidUnknownValues: true, stopAtFirstError: true }));
    if (details.length > 0) throw badRequest(details);
  }
  return batch;
}

@Injectable()
export class TrackingService {
  private readonly logger = new Logger(TrackingService.name);

  constructor(private readonly jetstream: JetStreamClient) {}

  /** One identify/track/page/screen/group/alias call: 200 only once JetStream has stored it. */
  async acceptOne(type: SegmentEventType, call: SegmentCall, raw: unknown, source: Source, receivedAt = new Date()): Promise<SegmentAcceptedResponse> {
    const size = byteLength(raw);
    if (size > MAX_MESSAGE_BYTES) {
      throw new PayloadTooLargeError(`A message may be at most ${MAX_MESSAGE_BYTES} bytes; this one has ${size}`, [{ field: 'body', problem: `larger than 32 KB (${size} bytes)` }]);
    }
    await this.publishAll([this.toMessage(type, call, source, receivedAt, {})]);
    return { success: true, accepted: 1, rejected: [] };
  }

  /**
   * A batch: every valid member is stored and the answer lists the rejected ones with their
   * reasons (so a client does not resend good events because of one bad one). A batch with no
   * valid member is a 400.
   */
  async acceptBatch(rawBody: unknown, source: Source, receivedAt = new Date()): Promise<SegmentAcceptedResponse> {
    const body = checkedBatch(rawBody);
    const defaults: BatchDefaults = { sentAt: body.sentAt, context: body.context, integrations: body.integrations };
    const valid: SegmentMessageV1[] = [];
    const rejected: SegmentAcceptedResponse['rejected'] = [];
    body.batch.forEach((raw, index) => {
      const path = `batch[${index}]`;
      const details: ApiErrorDetail[] = [];
      if (!isPlainObject(raw)) {
        rejected.push({ index, details: [{ field: path, problem: 'each member of batch must be an object' }] });
        return;
      }
      const size = byteLength(raw);
      if (size > MAX_MESSAGE_BYTES) details.push({ field: path, problem: `larger than 32 KB (${size} bytes)` });
      const unstorable = findUnstorableText(raw, path);
      if (unstorable) details.push(unstorable);
      const type = raw.type as SegmentEventType;
      if (type === undefined || type === null) {
        details.push({ field: `${path}.type`, problem: 'type is required' });
      } else if (!SEGMENT_EVENT_TYPES.includes(type)) {
        details.push({ field: `${path}.type`, problem: `type must be one of ${SEGMENT_EVENT_TYPES.join(', ')}` });
      } else {
        // The DTOs have no nested types to convert, so a prototype plus a shallow copy is all
        // class-transformer would produce — at a fraction of its cost on the hot path.
        const call: SegmentCall = Object.assign(Object.create(CALL_DTO_BY_TYPE[type].prototype) as SegmentCall, raw);
        const check = CALL_CHECKS[type];
        if (!check || !check(call as unknown as Record<string, unknown>)) {
          details.push(...validationDetails(validateSync(call, { whitelist: true, forbidUnknownValues: true, stopAtFirstError: true }), path));
        }
        if (details.length === 0) valid.push(this.toMessage(type, call, source, receivedAt, defaults));
      }
      if (details.length > 0) rejected.push({ index, messageId: typeof raw.messageId === 'string' ? raw.messageId : undefined, details });
    });
    if (valid.length === 0) {
      throw new ValidationFailedError(
        `No message of the batch is valid: ${rejected
          .flatMap((r) => r.details.map((d) => `${d.field} ${d.problem}`))
          .slice(0, 5)
          .join('; ')}`,
        rejected.flatMap((r) => r.details),
      );
    }
    await this.publishAll(valid);
    return { success: true, accepted: valid.length, rejected };
  }

  private toMessage(type: SegmentEventType, call: SegmentCall, source: Source, receivedAt: Date, defaults: BatchDefaults): SegmentMessageV1 {
    const fields = call as Partial<Record<'event' | 'name' | 'category' | 'groupId' | 'previousId', string>> & {
      properties?: Record<string, unknown>;
      traits?: Record<string, unknown>;
    };
    const sentAt = call.sentAt ?? defaults.sentAt;
    return {
      messageId: call.messageId ?? randomUUID(),
      type,
      sourceId: source.id,
      userId: call.userId,
      anonymousId: call.anonymousId,
      event: fields.event,
      name: fields.name,
      category: fields.category,
      groupId: fields.groupId,
      previousId: fields.previousId,
      properties: fields.properties ?? {},
      traits: fields.traits ?? {},
      context: { ...defaults.context, ...call.context },
      integrations: { ...defaults.integrations, ...call.integrations },
      timestamp: correctedTimestamp(receivedAt, call.timestamp, sentAt).toISOString(),
      originalTimestamp: call.timestamp,
      sentAt,
      receivedAt: receivedAt.toISOString(),
    };
  }

  /** Publishes every message and resolves once JetStream acknowledged all of them. */
  private async publishAll(messages: SegmentMessageV1[]): Promise<void> {
    try {
      await this.jetstream.publishMany(
        messages.map((message) => ({
          subject: SUBJECTS.event(message.type),
          // Per source (ADR 15): another source's event with the same messageId is not a duplicate.
          envelope: createEnvelope(message.type, message, { id: messageKey(message), occurredAt: new Date(message.timestamp) }),
          partitionKey: message.userId ?? message.anonymousId,
        })),
      );
    } catch (error) {
      this.logger.error((error as Error).message);
      throw new UnavailableError(`${(error as Error).message}. Retry the request with the same messageIds: what was stored is stored once.`);
    }
  }
}
