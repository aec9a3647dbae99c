import { createHash, randomBytes } from 'node:crypto';

/**
 * Write keys are 32 random bytes, so a fast hash is enough to store them safely (no dictionary to
 * attack); lookups stay cheap on the hot path.
 */
export function newWriteKey(): string {
  return randomBytes(24).toString('base64url');
}

export function hashWriteKey(writeKey: string): string {
  return createHash('sha256').update(writeKey).digest('hex');
}

/**
 * The write key of a request, as Segment accepts it: HTTP Basic auth with the key as user name and
 * an empty password, or `writeKey` in the JSON body.
 */
export function writeKeyFrom(authorization: string | undefined, body: unknown): string | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
    if (user) return user;
  }
  const fromBody = typeof body === 'object' && body !== null ? (body as { writeKey?: unknown }).writeKey : undefined;
  return typeof fromBody === 'string' && fromBody.length > 0 ? fromBody : undefined;
}
