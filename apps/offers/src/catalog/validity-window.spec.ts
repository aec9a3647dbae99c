import { canonicalTimeZone, parseLocalDateTime, resolveLocalDateTime, resolveValidityWindow } from './validity-window';

const at = (local: string, timeZone: string) => {
  const fields = parseLocalDateTime(local);
  if (!fields) throw new Error(`bad local ${local}`);
  const instant = resolveLocalDateTime(fields, timeZone);
  return instant === 'skipped' ? instant : instant.toISOString();
};

describe('resolveLocalDateTime', () => {
  it.each([
    ['2026-11-27T00:00:00', 'Europe/Berlin', '2026-11-26T23:00:00.000Z'],
    ['2026-07-01T12:00:00', 'Europe/Berlin', '2026-07-01T10:00:00.000Z'],
    ['2026-07-01T12:00:00', 'America/New_York', '2026-07-01T16:00:00.000Z'],
    ['2026-01-15T08:30:00', 'Asia/Kolkata', '2026-01-15T03:00:00.000Z'],
    ['2026-01-01T00:00:00', 'UTC', '2026-01-01T00:00:00.000Z'],
    ['2026-06-01T00:00:00', 'Australia/Sydney', '2026-05-31T14:00:00.000Z'],
    ['2026-12-01T00:00:00', 'Australia/Sydney', '2026-11-30T13:00:00.000Z'],
  ])('%s in %s is %s', (local, zone, expected) => {
    expect(at(local, zone)).toBe(expected);
  });

  it('refuses a time the clocks skip (spring forward: Berlin 2026-03-29 02:30, New York 2026-03-08 02:30)', () => {
    expect(at('2026-03-29T02:30:00', 'Europe/Berlin')).toBe('skipped');
    expect(at('2026-03-08T02:30:00', 'America/New_York')).toBe('skipped');
    // Either side of the gap exists.
    expect(at('2026-03-29T01:59:59', 'Europe/Berlin')).toBe('2026-03-29T00:59:59.000Z');
    expect(at('2026-03-29T03:00:00', 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
  });

  it('takes the first occurrence of a time that happens twice (fall back: Berlin 2026-10-25 02:30)', () => {
    expect(at('2026-10-25T02:30:00', 'Europe/Berlin')).toBe('2026-10-25T00:30:00.000Z');
    expect(at('2026-11-01T01:30:00', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
  });

  it('handles a zone whose offset is not whole hours and one that changed its rules (Kathmandu, Samoa skipping 2011-12-30)', () => {
    expect(at('2026-05-01T00:00:00', 'Asia/Kathmandu')).toBe('2026-04-30T18:15:00.000Z');
    expect(at('2011-12-30T12:00:00', 'Pacific/Apia')).toBe('skipped');
  });
});

describe('parseLocalDateTime', () => {
  it.each(['2026-02-30T10:00', '2026-13-01T00:00', '2026-01-01T24:00', '2026-01-01T10:60', '2026-01-01', '2026-01-01T10:00Z', '2026-01-01T10:00+02:00', '2026-01-01 10:00', 'tomorrow', ''])(
    'refuses %j',
    (text) => {
      expect(parseLocalDateTime(text)).toBeUndefined();
    },
  );

  it('accepts minutes or seconds, and 29 February in a leap year only', () => {
    expect(parseLocalDateTime('2028-02-29T23:59')).toEqual({ year: 2028, month: 2, day: 29, hour: 23, minute: 59, second: 0 });
    expect(parseLocalDateTime('2026-02-29T10:00')).toBeUndefined();
    expect(parseLocalDateTime('2026-01-01T10:00:30')?.second).toBe(30);
  });
});

describe('canonicalTimeZone', () => {
  it('knows IANA zones and refuses offsets and made-up names', () => {
    expect(canonicalTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('Mars/Olympus')).toBeUndefined();
    expect(canonicalTimeZone('+02:00')).toBeUndefined();
    expect(canonicalTimeZone(42)).toBeUndefined();
  });
});

describe('resolveValidityWindow', () => {
  it('resolves both ends and keeps the local times as given (seconds added)', () => {
    const result = resolveValidityWindow({ startsAt: '2026-11-27T00:00', endsAt: '2026-11-30T23:59:59', timeZone: 'Europe/Berlin' });
    expect(result).toEqual({
      ok: true,
      value: {
        startsAtLocal: '2026-11-27T00:00:00',
        endsAtLocal: '2026-11-30T23:59:59',
        timeZone: 'Europe/Berlin',
        startsAt: new Date('2026-11-26T23:00:00Z'),
        endsAt: new Date('2026-11-30T22:59:59Z'),
      },
    });
  });

  it('allows no end', () => {
    const result = resolveValidityWindow({ startsAt: '2026-11-27T00:00', timeZone: 'America/New_York' });
    expect(result.ok && result.value.endsAt).toBeNull();
  });

  it('refuses an end not after the start, compared as instants across a DST change', () => {
    // 01:30 twice in New York on 2026-11-01: the first one (EDT) is the start, so 01:30 again is not after it.
    expect(resolveValidityWindow({ startsAt: '2026-11-01T01:30', endsAt: '2026-11-01T01:30', timeZone: 'America/New_York' })).toEqual({
      ok: false,
      problems: [{ field: 'endsAt', problem: 'must be after startsAt (2026-11-01T01:30 in America/New_York)' }],
    });
    expect(resolveValidityWindow({ startsAt: '2026-11-02T00:00', endsAt: '2026-11-01T00:00', timeZone: 'UTC' }).ok).toBe(false);
  });

  it('names every wrong field', () => {
    const result = resolveValidityWindow({ startsAt: '2026-03-29T02:30', endsAt: 'soon', timeZone: 'Europe/Berlin' });
    expect(result.ok ? [] : result.problems.map((p) => p.field)).toEqual(['startsAt', 'endsAt']);
    const zone = resolveValidityWindow({ startsAt: '2026-03-29T02:30', timeZone: 'Europe/Berln' });
    expect(zone.ok ? [] : zone.problems).toEqual([{ field: 'timeZone', problem: 'must be an IANA time zone such as Europe/Berlin or America/New_York' }]);
    const missing = resolveValidityWindow({ startsAt: undefined, timeZone: undefined });
    expect(missing.ok ? [] : missing.problems.map((p) => `${p.field} ${p.problem}`)).toEqual(['timeZone is required', 'startsAt is required']);
  });
});
