import { acceptedScopes, checkRecord, generateApiKeySecret, hashApiKeySecret, indexByHash, isAllowed, parseApiKeyRecord, sameHash, type ApiKeyRecord, type ApiScope } from './api-key';

const now = new Date('2026-12-02T08:00:00Z');
const secret = 'sgk_current';
const old = 'sgk_previous';
const base: ApiKeyRecord = { id: 'k1', name: 'shop', scopes: ['personalize'], hash: hashApiKeySecret(secret), createdAt: '2026-12-01T00:00:00Z' };

describe('acceptedScopes and isAllowed', () => {
  it.each<[ApiScope, string, ApiScope[]]>([
    ['admin', 'GET', ['admin', 'read']],
    ['admin', 'HEAD', ['admin', 'read']],
    ['admin', 'POST', ['admin']],
    ['admin', 'DELETE', ['admin']],
    ['personalize', 'GET', ['admin', 'personalize', 'read']],
    ['personalize', 'POST', ['admin', 'personalize']],
    ['read', 'GET', ['admin', 'read']],
    ['read', 'PUT', ['admin']],
  ])('a route needing %s answered to %s accepts %j', (required, method, expected) => {
    expect(acceptedScopes(required, method)).toEqual(expected);
  });

  it('a GET that changes state is not for read keys', () => {
    expect(acceptedScopes('personalize', 'GET', true)).toEqual(['admin', 'personalize']);
    expect(isAllowed(['read'], 'personalize', 'GET', true)).toBe(false);
    expect(isAllowed(['personalize'], 'personalize', 'GET', true)).toBe(true);
  });

  it.each<[ApiScope[], ApiScope, string, boolean]>([
    [['admin'], 'personalize', 'POST', true],
    [['read'], 'admin', 'GET', true],
    [['read'], 'admin', 'PATCH', false],
    [['personalize'], 'admin', 'GET', false],
    [['personalize'], 'admin', 'POST', false],
    [['personalize', 'read'], 'admin', 'GET', true],
    [['read'], 'personalize', 'POST', false],
  ])('a key with %j on a route needing %s (%s) is allowed: %s', (granted, required, method, allowed) => {
    expect(isAllowed(granted, required, method)).toBe(allowed);
  });
});

describe('checkRecord', () => {
  it('accepts the current secret with the record’s scopes', () => {
    expect(checkRecord(base, hashApiKeySecret(secret), now)).toEqual({ ok: true, keyId: base.id, scopes: ['personalize'] });
  });

  it.each<[string, Partial<ApiKeyRecord>, string]>([
    ['revoked', { revokedAt: '2026-12-02T07:59:59Z' }, 'revoked key'],
    ['expired', { expiresAt: '2026-12-02T08:00:00Z' }, 'expired key'],
  ])('refuses a %s key', (_, change, problem) => {
    expect(checkRecord({ ...base, ...change }, hashApiKeySecret(secret), now)).toEqual({ ok: false, problem });
  });

  it('refuses an unknown key', () => {
    expect(checkRecord(undefined, hashApiKeySecret('sgk_nope'), now)).toEqual({ ok: false, problem: 'unknown key' });
  });

  it('accepts the previous secret during the grace period and refuses it after', () => {
    const rotated = { ...base, previousHash: hashApiKeySecret(old), previousValidUntil: '2026-12-02T09:00:00Z' };
    expect(checkRecord(rotated, hashApiKeySecret(old), now).ok).toBe(true);
    expect(checkRecord(rotated, hashApiKeySecret(old), new Date('2026-12-02T09:00:00Z'))).toEqual({ ok: false, problem: 'expired key' });
  });

  it('refuses the previous secret of a revoked key even within its grace period', () => {
    const rotated = { ...base, previousHash: hashApiKeySecret(old), previousValidUntil: '2026-12-02T09:00:00Z', revokedAt: '2026-12-02T07:00:00Z' };
    expect(checkRecord(rotated, hashApiKeySecret(old), now)).toEqual({ ok: false, problem: 'revoked key' });
  });
});

describe('key material', () => {
  it('generates distinct prefixed secrets of 256 random bits', () => {
    const a = generateApiKeySecret();
    expect(a).toMatch(/^sgk_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKeySecret()).not.toBe(a);
  });

  it('compares secrets of different lengths by their hashes, without throwing', () => {
    expect(sameHash(hashApiKeySecret('short'), hashApiKeySecret('a-much-longer-secret'))).toBe(false);
    expect(sameHash(hashApiKeySecret('same-secret'), hashApiKeySecret('same-secret'))).toBe(true);
    expect(sameHash(hashApiKeySecret('same-secret'), 'abc')).toBe(false);
  });

  it('indexes a rotated record under its current and previous hash', () => {
    const rotated = { ...base, previousHash: hashApiKeySecret(old) };
    const index = indexByHash([rotated]);
    expect(index.get(hashApiKeySecret(secret))).toBe(rotated);
    expect(index.get(hashApiKeySecret(old))).toBe(rotated);
  });

  it.each([['not json'], ['{"id":"k"}'], [JSON.stringify({ ...base, scopes: ['root'] })]])('ignores the malformed record %s', (raw) => {
    expect(parseApiKeyRecord(raw)).toBeUndefined();
  });
});
