import { latestPerPair, progressOf, supersedes, type MembershipChange } from './membership-changes';

const SEGMENT = '00000000-0000-4000-8000-000000000001';
const OTHER_SEGMENT = '00000000-0000-4000-8000-000000000002';
const PROFILE = '10000000-0000-4000-8000-000000000001';

const change = (seq: number, member: boolean, segmentId = SEGMENT): MembershipChange => ({
  segmentId,
  segmentKey: segmentId === SEGMENT ? 'vip' : 'lapsed',
  profileId: PROFILE,
  member,
  seq,
  at: new Date(Date.UTC(2026, 11, 1, 0, 0, seq)).toISOString(),
});

describe('supersedes (the seq guard)', () => {
  it.each([
    { stored: undefined, seq: 1, applied: true, why: 'nothing stored yet' },
    { stored: 4, seq: 5, applied: true, why: 'a newer change' },
    { stored: 5, seq: 5, applied: false, why: 'the same change redelivered' },
    { stored: 7, seq: 5, applied: false, why: 'an older change replayed after a newer one' },
    { stored: 0, seq: 1, applied: true, why: 'a snapshot row of a pair with no logged change' },
  ])('applies seq $seq over stored $stored: $applied ($why)', ({ stored, seq, applied }) => {
    expect(supersedes(stored, { seq })).toBe(applied);
  });
});

describe('latestPerPair', () => {
  it('keeps the newest change of each pair whatever the order of the batch', () => {
    expect(latestPerPair([change(9, false), change(3, true), change(4, true, OTHER_SEGMENT)])).toEqual([change(4, true, OTHER_SEGMENT), change(9, false)]);
  });

  it('keeps the first of two changes with the same seq (a duplicate)', () => {
    const first = change(3, true);
    expect(latestPerPair([first, { ...change(3, true) }])[0]).toBe(first);
  });
});

describe('progressOf', () => {
  it('is the highest seq of the batch and its time', () => {
    expect(progressOf([change(2, true), change(8, false), change(5, true)])).toEqual({ seq: 8, at: change(8, false).at });
  });

  it('is null for no changes', () => {
    expect(progressOf([])).toBeNull();
  });
});
