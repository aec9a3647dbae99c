import { afterQuietHours, durationMs, frequencyCapVerdict, minutesOfDay, nextTimeOfDay, reentryAllowed, splitBranch } from './journey-timing';

const H = 3_600_000;
const DAY = 24 * H;
const at = (iso: string) => new Date(iso);

describe('journey timing', () => {
  it('reads ISO 8601 durations of weeks, days, hours, minutes and seconds, and nothing else', () => {
    expect(durationMs('P1D')).toBe(DAY);
    expect(durationMs('PT12H')).toBe(12 * H);
    expect(durationMs('P1DT30M')).toBe(DAY + 30 * 60_000);
    expect(durationMs('P2W')).toBe(14 * DAY);
    expect(durationMs('PT45S')).toBe(45_000);
    for (const bad of ['P', 'PT', 'P0D', '1D', 'P1Y', 'P1M', 'PT-1H', 3, undefined]) expect(durationMs(bad)).toBeUndefined();
    expect(minutesOfDay('09:30')).toBe(570);
    expect(minutesOfDay('24:00')).toBeUndefined();
  });

  it('waits until a time of day in the customer’s zone: today if still ahead, else tomorrow, across daylight saving', () => {
    // Berlin in January is UTC+1: 09:00 local now.
    expect(nextTimeOfDay(at('2026-01-15T08:00:00Z'), '10:00', 'Europe/Berlin')).toEqual(at('2026-01-15T09:00:00Z'));
    expect(nextTimeOfDay(at('2026-01-15T08:00:00Z'), '08:00', 'Europe/Berlin')).toEqual(at('2026-01-16T07:00:00Z'));
    expect(nextTimeOfDay(at('2026-07-01T12:00:00Z'), '09:00', 'America/New_York')).toEqual(at('2026-07-01T13:00:00Z'));
    // The night Berlin's clocks go from 02:00 to 03:00 (29 March 2026): 02:30 does not exist; the hour after it is taken.
    expect(nextTimeOfDay(at('2026-03-28T23:00:00Z'), '02:30', 'Europe/Berlin')).toEqual(at('2026-03-29T01:30:00Z'));
    // And the day after, summer time (UTC+2).
    expect(nextTimeOfDay(at('2026-03-29T12:00:00Z'), '09:00', 'Europe/Berlin')).toEqual(at('2026-03-30T07:00:00Z'));
  });

  it('holds a message that falls in quiet hours until they end, also over midnight', () => {
    const night = { start: '22:00', end: '08:00' };
    expect(afterQuietHours(at('2026-01-15T22:30:00Z'), night, 'Europe/Berlin')).toEqual(at('2026-01-16T07:00:00Z'));
    expect(afterQuietHours(at('2026-01-16T05:00:00Z'), night, 'Europe/Berlin')).toEqual(at('2026-01-16T07:00:00Z'));
    expect(afterQuietHours(at('2026-01-15T12:00:00Z'), night, 'Europe/Berlin')).toEqual(at('2026-01-15T12:00:00Z'));
    expect(afterQuietHours(at('2026-01-15T12:30:00Z'), { start: '13:00', end: '14:00' }, 'Europe/Berlin')).toEqual(at('2026-01-15T13:00:00Z'));
    expect(afterQuietHours(at('2026-01-15T12:30:00Z'), null, 'Europe/Berlin')).toEqual(at('2026-01-15T12:30:00Z'));
  });

  it('lets a customer in again never, or after the days the policy says', () => {
    const now = at('2026-12-10T00:00:00Z');
    expect(reentryAllowed(null, { policy: 'never' }, now)).toBe(true);
    expect(reentryAllowed(at('2026-12-01T00:00:00Z'), { policy: 'never' }, now)).toBe(false);
    expect(reentryAllowed(at('2026-12-03T00:00:00Z'), { policy: 'after', days: 7 }, now)).toBe(true);
    expect(reentryAllowed(at('2026-12-04T00:00:00Z'), { policy: 'after', days: 7 }, now)).toBe(false);
  });

  it('caps messages per channel per rolling day and week, and says which cap', () => {
    const now = at('2026-12-10T12:00:00Z');
    const ago = (ms: number) => new Date(now.getTime() - ms);
    const cap = { perDay: 1, perWeek: 2 };
    expect(frequencyCapVerdict([], cap, now)).toEqual({ allowed: true });
    expect(frequencyCapVerdict([ago(H)], cap, now)).toEqual({ allowed: false, reason: 'frequency cap: 1 per day reached' });
    expect(frequencyCapVerdict([ago(25 * H)], cap, now)).toEqual({ allowed: true });
    expect(frequencyCapVerdict([ago(2 * DAY), ago(3 * DAY)], cap, now)).toEqual({ allowed: false, reason: 'frequency cap: 2 per week reached' });
    expect(frequencyCapVerdict([ago(8 * DAY), ago(9 * DAY)], cap, now)).toEqual({ allowed: true });
    expect(frequencyCapVerdict([ago(H)], { perDay: null, perWeek: null }, now)).toEqual({ allowed: true });
  });

  it('splits enrollments by weight, the same way every time for one enrollment and step', () => {
    expect(splitBranch('enrollment-1', 'split-a', [1, 1])).toBe(splitBranch('enrollment-1', 'split-a', [1, 1]));
    const share = (weights: number[], branch: number) => Array.from({ length: 20_000 }, (_, i) => splitBranch(`e-${i}`, 's', weights)).filter((b) => b === branch).length / 20_000;
    // 20,000 draws: a standard error of at most 0.35 percentage points; 1.5 is over four of them.
    expect(Math.abs(share([1, 1], 0) - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(share([1, 3], 0) - 0.25)).toBeLessThan(0.015);
    expect(share([0, 1], 0)).toBe(0);
    expect(() => splitBranch('e', 's', [])).toThrow();
    expect(() => splitBranch('e', 's', [0, 0])).toThrow();
  });
});
