import { extractIdentifiers, identifierKey, normalisePhone, type Identifier } from './identifiers';
import { IdentityGraphBatch, type ProfileIdentityStats } from './identity-graph-batch';
import { DEFAULT_IDENTITY_RULES, parseBlocklist, parseKindLimits, type IdentityRules } from './identity-rules';

const ids = (...pairs: Array<[string, string]>): Identifier[] => pairs.map(([kind, value]) => ({ kind, value }));

function graph(existing: Record<string, Array<[string, string]>>, options: { rules?: IdentityRules; blocked?: string[]; mergeCounts?: Record<string, number> } = {}) {
  const known = new Map<string, string>();
  const stats = new Map<string, ProfileIdentityStats>();
  for (const [profile, identifiers] of Object.entries(existing)) {
    const counts: Record<string, number> = {};
    for (const [kind, value] of identifiers) {
      known.set(`${kind}:${value}`, profile);
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    stats.set(profile, { counts, total: identifiers.length, mergeCount: options.mergeCounts?.[profile] ?? 0 });
  }
  let n = 0;
  const blocked = new Set(options.blocked ?? []);
  return new IdentityGraphBatch(
    options.rules ?? DEFAULT_IDENTITY_RULES,
    known,
    stats,
    (i) => blocked.has(identifierKey(i)),
    () => `new-${(n += 1)}`,
  );
}

describe('extractIdentifiers', () => {
  it('reads userId, email, phone, externalIds and anonymousId, highest priority first, normalised', () => {
    const found = extractIdentifiers({
      type: 'identify',
      anonymousId: 'anon-1',
      userId: 'u-1',
      traits: { email: ' Ann@Example.COM ', phone: '+49 (30) 1234-567' },
      context: { externalIds: [{ id: 'L-77', type: 'Loyalty_Card', collection: 'users' }] },
    });
    expect(found).toEqual(ids(['user_id', 'u-1'], ['email', 'ann@example.com'], ['phone', '+49301234567'], ['custom:loyalty_card', 'L-77'], ['anonymous_id', 'anon-1']));
  });

  it('looks up an alias previousId as a user id and attaches it as an anonymous id', () => {
    const found = extractIdentifiers({ type: 'alias', userId: 'u-2', previousId: 'old', traits: {}, context: {} });
    expect(found).toEqual([
      { kind: 'user_id', value: 'u-2' },
      { kind: 'user_id', value: 'old', lookupOnly: true },
      { kind: 'anonymous_id', value: 'old' },
    ]);
  });

  it('ignores values that are not emails or phone numbers', () => {
    expect(extractIdentifiers({ type: 'identify', userId: 'u', traits: { email: 'not-an-email', phone: '12' }, context: {} })).toEqual(ids(['user_id', 'u']));
    expect(normalisePhone('030 123456')).toBe('030123456');
  });
});

describe('IdentityGraphBatch', () => {
  it('creates a profile for unknown identifiers and finds it again through any of them', () => {
    const batch = graph({});
    const p = batch.resolve('e1', 'track', ids(['anonymous_id', 'a1']));
    expect(p).toBe('new-1');
    expect(batch.resolve('e2', 'identify', ids(['user_id', 'u1'], ['anonymous_id', 'a1']))).toBe('new-1');
    expect(batch.resolve('e3', 'track', ids(['user_id', 'u1']))).toBe('new-1');
    expect(batch.newProfiles).toEqual(['new-1']);
    expect(batch.newIdentities()).toEqual([
      { kind: 'anonymous_id', value: 'a1', profileId: 'new-1' },
      { kind: 'user_id', value: 'u1', profileId: 'new-1' },
    ]);
  });

  it('merges the anonymous profile into the known customer on identify; the user id profile survives', () => {
    const batch = graph({
      anon: [['anonymous_id', 'a1']],
      customer: [
        ['user_id', 'u1'],
        ['email', 'ann@example.com'],
      ],
    });
    expect(batch.resolve('e1', 'identify', ids(['user_id', 'u1'], ['anonymous_id', 'a1']))).toBe('customer');
    expect(batch.merges).toEqual([{ from: 'anon', into: 'customer', identifier: 'anonymous_id:a1', eventId: 'e1', reason: 'identify' }]);
    expect(batch.resolve('e2', 'track', ids(['anonymous_id', 'a1']))).toBe('customer');
    expect(batch.live('anon')).toBe('customer');
  });

  it('refuses a merge that would put two user ids on one profile, and keeps the call on the higher-priority match', () => {
    // A shared device: a1 already belongs to u1's profile; u2 logs in on it.
    const batch = graph({
      p1: [
        ['user_id', 'u1'],
        ['anonymous_id', 'a1'],
      ],
      p2: [['user_id', 'u2']],
    });
    expect(batch.resolve('e1', 'identify', ids(['user_id', 'u2'], ['anonymous_id', 'a1']))).toBe('p2');
    expect(batch.merges).toEqual([]);
    expect(batch.refused).toEqual([expect.objectContaining({ from: 'p1', into: 'p2', identifier: 'anonymous_id:a1', detail: expect.stringContaining('user_id limit: at most 1') })]);
    expect(batch.live('p1')).toBe('p1');
  });

  it('does not attach a second user id to a profile', () => {
    const batch = graph({
      p1: [
        ['user_id', 'u1'],
        ['anonymous_id', 'a1'],
      ],
    });
    // u9 is new, a1 belongs to p1 (which already has u1): u9 gets its own profile, a1 stays.
    expect(batch.resolve('e1', 'identify', ids(['user_id', 'u9'], ['anonymous_id', 'a1']))).toBe('new-1');
    expect(batch.newIdentities()).toEqual([{ kind: 'user_id', value: 'u9', profileId: 'new-1' }]);
    expect(batch.refused).toEqual([expect.objectContaining({ from: 'p1', into: 'new-1', identifier: 'anonymous_id:a1' })]);
  });

  it('never links through a blocked identifier', () => {
    const batch = graph(
      {
        p1: [
          ['user_id', 'u1'],
          ['anonymous_id', 'shared-device'],
        ],
      },
      { blocked: ['anonymous_id:shared-device', 'email:test@example.com'] },
    );
    expect(batch.resolve('e1', 'identify', ids(['user_id', 'u2'], ['email', 'test@example.com'], ['anonymous_id', 'shared-device']))).toBe('new-1');
    expect(batch.merges).toEqual([]);
    expect(batch.refused).toEqual([]);
    expect(batch.newIdentities()).toEqual([{ kind: 'user_id', value: 'u2', profileId: 'new-1' }]);
    expect(batch.resolve('e2', 'track', ids(['anonymous_id', 'shared-device']))).toBeNull();
  });

  it('stops merging at the merge limit and the identifier limit', () => {
    const rules = { ...DEFAULT_IDENTITY_RULES, maxMerges: 3, maxIdentifiers: 4 };
    const batch = graph(
      {
        a: [['user_id', 'u1']],
        b: [['anonymous_id', 'x']],
        c: [
          ['anonymous_id', 'y'],
          ['anonymous_id', 'z'],
          ['anonymous_id', 'w'],
        ],
      },
      { rules, mergeCounts: { a: 2 } },
    );
    batch.resolve('e1', 'alias', ids(['user_id', 'u1'], ['anonymous_id', 'x']));
    expect(batch.merges).toHaveLength(1); // 2 + 0 + 1 = 3 merges: allowed
    batch.resolve('e2', 'identify', ids(['user_id', 'u1'], ['anonymous_id', 'y']));
    expect(batch.merges).toHaveLength(1);
    expect(batch.refused[0].detail).toMatch(/merge limit: at most 3/);
    const small = graph(
      {
        a: [
          ['user_id', 'u1'],
          ['anonymous_id', 'q'],
        ],
        c: [
          ['anonymous_id', 'y'],
          ['anonymous_id', 'z'],
          ['anonymous_id', 'w'],
        ],
      },
      { rules },
    );
    small.resolve('e3', 'identify', ids(['user_id', 'u1'], ['anonymous_id', 'y']));
    expect(small.refused[0].detail).toMatch(/identifier limit: at most 4/);
  });

  it('follows chains of merges within one batch', () => {
    const batch = graph({ a: [['anonymous_id', 'a1']], b: [['email', 'b@example.com']], c: [['user_id', 'u1']] });
    batch.resolve('e1', 'identify', ids(['email', 'b@example.com'], ['anonymous_id', 'a1']));
    batch.resolve('e2', 'identify', ids(['user_id', 'u1'], ['email', 'b@example.com']));
    expect(batch.merges.map((m) => `${m.from}->${m.into}`)).toEqual(['a->b', 'b->c']);
    expect(batch.live('a')).toBe('c');
    expect(batch.resolve('e3', 'page', ids(['anonymous_id', 'a1']))).toBe('c');
  });
});

describe('identity rules configuration', () => {
  it('parses limits and block lists and names a bad entry', () => {
    expect(parseKindLimits('user_id=1, email=3,custom:loyalty=2')).toEqual({ user_id: 1, email: 3, 'custom:loyalty': 2 });
    expect(() => parseKindLimits('email=0')).toThrow('"email=0"');
    expect(parseBlocklist('anonymous_id:00000000-0000,email:test@example.com,custom:device:abc')).toEqual([
      { kind: 'anonymous_id', value: '00000000-0000' },
      { kind: 'email', value: 'test@example.com' },
      { kind: 'custom:device', value: 'abc' },
    ]);
    expect(() => parseBlocklist('nocolon')).toThrow('"nocolon" is not kind:value');
  });
});
