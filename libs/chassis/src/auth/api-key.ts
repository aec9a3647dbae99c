import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What an API key may do (ARCHITECTURE §5). `admin` implies the others. */
export const API_SCOPES = ['admin', 'personalize', 'read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** A key as the registry stores it: never the secret, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: ApiScope[];
  /** Hex SHA-256 of the secret. */
  hash: string;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  rotatedAt?: string;
  /** The secret before the last rotation stays valid until `previousValidUntil`. */
  previousHash?: string;
  previousValidUntil?: string;
}

/** Secrets carry a recognisable prefix so secret scanners and people can tell what they are. */
export const API_KEY_PREFIX = 'sgk_';

/** 32 random bytes: far beyond brute force, which is why a fast unsalted hash is enough. */
export function generateApiKeySecret(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two hex hashes in time independent of where they differ (a secret's, hashed, with a stored one). */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Why a presented key is not accepted, or the scopes it grants. */
/** `keyId` names the key for its rate limit: the record's id, or ADMIN_API_KEY. */
export type KeyCheck = { ok: true; keyId: string; scopes: readonly ApiScope[] } | { ok: false; problem: 'unknown key' | 'revoked key' | 'expired key' };

/** Whether `record` accepts a secret whose hash is `hash` at `now` (the caller found it by that hash). */
export function checkRecord(record: ApiKeyRecord | undefined, hash: string, now: Date): KeyCheck {
  if (!record) return { ok: false, problem: 'unknown key' };
  if (record.revokedAt && Date.parse(record.revokedAt) <= now.getTime()) return { ok: false, problem: 'revoked key' };
  if (record.expiresAt && Date.parse(record.expiresAt) <= now.getTime()) return { ok: false, problem: 'expired key' };
  if (sameHash(hash, record.hash)) return { ok: true, keyId: record.id, scopes: record.scopes };
  if (record.previousHash && sameHash(hash, record.previousHash)) {
    const until = record.previousValidUntil ? Date.parse(record.previousValidUntil) : 0;
    return until > now.getTime() ? { ok: true, keyId: record.id, scopes: record.scopes } : { ok: false, problem: 'expired key' };
  }
  return { ok: false, problem: 'unknown key' };
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The scopes that pass a route declared with `required`: `admin` always, the declared scope, and
 * `read` on GET/HEAD (dashboards may read what admin and personalize routes show) unless the route
 * changes state (`changesState`: a GET that reserves codes and records exposures).
 */
export function acceptedScopes(required: ApiScope, httpMethod: string, changesState = false): ApiScope[] {
  const accepted = new Set<ApiScope>(['admin', required]);
  if (READ_METHODS.has(httpMethod.toUpperCase()) && !changesState) accepted.add('read');
  else accepted.delete('read');
  return API_SCOPES.filter((scope) => accepted.has(scope));
}

export function isAllowed(granted: readonly ApiScope[], required: ApiScope, httpMethod: string, changesState = false): boolean {
  const accepted = acceptedScopes(required, httpMethod, changesState);
  return granted.some((scope) => accepted.includes(scope));
}

/** Records indexed by every hash that may authenticate (current and, during a rotation, previous). */
export function indexByHash(records: Iterable<ApiKeyRecord>): Map<string, ApiKeyRecord> {
  const index = new Map<string, ApiKeyRecord>();
  for (const record of records) {
    index.set(record.hash, record);
    if (record.previousHash) index.set(record.previousHash, record);
  }
  return index;
}

/** Parses a bucket value; undefined for anything that is not a well-formed record. */
export function parseApiKeyRecord(raw: string): ApiKeyRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const r = value as Partial<ApiKeyRecord> | null;
  if (!r || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.name !== 'string' || typeof r.hash !== 'string' || typeof r.createdAt !== 'string') return undefined;
  if (!Array.isArray(r.scopes) || !r.scopes.every((s) => (API_SCOPES as readonly string[]).includes(s))) return undefined;
  return r as ApiKeyRecord;
}
