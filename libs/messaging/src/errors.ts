/**
 * A message that can never succeed (malformed JSON, failed validation): it goes to the DLQ at
 * once instead of being retried.
 */
export class NonRetryableMessageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableMessageError';
  }
}
