import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signing by the Standard Webhooks convention (standardwebhooks.com), so that receivers can
 * verify a delivery with an existing library: `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature` = `v1,` + base64 HMAC-SHA256 over `id.timestamp.body` with the secret's bytes.
 * A secret is `whsec_` + base64 of its bytes.
 */

export const SECRET_PREFIX = 'whsec_';

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** A new signing secret of `bytes` random bytes (24 to 64, as the convention allows). */
export function generateWebhookSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 24 || bytes > 64) throw new RangeError('a webhook secret has 24 to 64 bytes');
  return `${SECRET_PREFIX}${randomBytes(bytes).toString('base64')}`;
}

/** The bytes of a `whsec_` secret; throws on anything else (a secret is checked when it is stored). */
export function secretBytes(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`a webhook secret starts with ${SECRET_PREFIX}`);
  const bytes = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (bytes.length < 24 || bytes.length > 64 || bytes.toString('base64') !== secret.slice(SECRET_PREFIX.length)) throw new Error('a webhook secret is whsec_ and the base64 of 24 to 64 bytes');
  return bytes;
}

/** `v1,<signature>` of one message. */
export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', secretBytes(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The headers of a delivery of `body` (the exact bytes sent) with message id `id`, signed at `at`. */
export function signWebhook(secrets: string | readonly string[], id: string, at: Date, body: string): WebhookHeaders {
  const timestamp = Math.floor(at.getTime() / 1000);
  // Several secrets sign side by side while one is being rotated: receivers accept any of them.
  const signatures = (typeof secrets === 'string' ? [secrets] : secrets).map((secret) => webhookSignature(secret, id, timestamp, body));
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatures.join(' ') };
}

/** Whether headers carry a valid signature of `body` by `secret`, within `toleranceSeconds` of `now` (our own receivers' and tests' check). */
export function verifyWebhook(secret: string, headers: Record<string, string | undefined>, body: string, now = new Date(), toleranceSeconds = 300): boolean {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  const given = headers['webhook-signature'];
  if (!id || !Number.isInteger(timestamp) || !given) return false;
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(webhookSignature(secret, id, timestamp, body));
  return given.split(' ').some((candidate) => {
    const bytes = Buffer.from(candidate);
    return bytes.length === expected.length && timingSafeEqual(bytes, expected);
  });
}
