import { randomUUID } from 'node:crypto';
import type { Envelope } from '@segmenta/contracts';

/** Builds an envelope; pass `id` when the message has a natural idempotency key (messageId). */
export function createEnvelope<T>(type: string, data: T, options: { id?: string; occurredAt?: Date } = {}): Envelope<T> {
  return {
    id: options.id ?? randomUUID(),
    type,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    data,
  };
}
