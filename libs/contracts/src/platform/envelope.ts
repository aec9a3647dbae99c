/**
 * Every message on JetStream travels in this envelope. `id` is the publisher's idempotency key
 * and is also sent as the `Nats-Msg-Id` header.
 */
export interface Envelope<TData = unknown> {
  id: string;
  type: string;
  occurredAt: string;
  data: TData;
}

/** Header names the messaging lib sets besides Nats-Msg-Id. */
export const MESSAGE_HEADERS = {
  /** Key that orders one customer's messages (anonymousId or userId). */
  partitionKey: 'Segmenta-Partition-Key',
  /** On DLQ messages: the error of the last failed delivery, and where it came from. */
  error: 'Segmenta-Error',
  originalSubject: 'Segmenta-Original-Subject',
  originalStream: 'Segmenta-Original-Stream',
  deliveries: 'Segmenta-Deliveries',
  /** On DLQ messages: the durable consumer that gave up, and when its first and last attempts failed. */
  consumer: 'Segmenta-Consumer',
  firstFailure: 'Segmenta-First-Failure',
  lastFailure: 'Segmenta-Last-Failure',
} as const;
