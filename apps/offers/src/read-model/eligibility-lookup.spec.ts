import { identifierOf, membershipMatrix } from './eligibility-lookup';

describe('membershipMatrix', () => {
  it('answers every asked (profile, segment) pair, false where no member row is held', () => {
    const matrix = membershipMatrix(
      ['p1', 'p2'],
      ['vip', 'lifecycle-at-risk'],
      [
        { profile_id: 'p1', segment_key: 'vip' },
        { profile_id: 'p2', segment_key: 'lifecycle-at-risk' },
      ],
    );
    expect(Object.fromEntries(matrix)).toEqual({ p1: { vip: true, 'lifecycle-at-risk': false }, p2: { vip: false, 'lifecycle-at-risk': true } });
  });

  it('has an empty answer per profile for no segment keys', () => {
    expect(membershipMatrix(['p1'], [], []).get('p1')).toEqual({});
  });
});

describe('identifierOf', () => {
  it.each([
    [{ userId: 'u-1' }, { kind: 'user_id', value: 'u-1' }],
    [{ anonymousId: 'a-1' }, { kind: 'anonymous_id', value: 'a-1' }],
    [{ email: ' Ann@Example.com' }, { kind: 'email', value: 'ann@example.com' }],
    [{ profileId: '10000000-0000-4000-8000-000000000001' }, null],
  ])('maps %j to %j', (reference, expected) => {
    expect(identifierOf(reference)).toEqual(expected);
  });
});
