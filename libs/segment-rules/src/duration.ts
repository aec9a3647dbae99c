/**
 * ISO-8601 durations (`P7D`, `PT12H`, `P1M`, `P1Y2M10DT2H30M`, `P2W`) for behavioural windows.
 * Years and months are calendar units: one month before 31 March is 28/29 February (clamped to the
 * month's last day), in UTC. Weeks, days and the time part are fixed lengths (a day is 24 hours).
 */
export interface Duration {
  years: number;
  months: number;
  /** Weeks, days, hours, minutes and seconds together. */
  milliseconds: number;
}

const PATTERN = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;
const DAY_MS = 86_400_000;

/** The duration, or a sentence saying what is wrong with the text. */
export function parseDuration(text: string): Duration | string {
  const match = PATTERN.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return `"${text}" is not an ISO-8601 duration such as P7D, PT12H or P1M`;
  const [, y, mo, w, d, h, mi, s] = match;
  const n = (part: string | undefined) => (part === undefined ? 0 : Number(part));
  const duration = { years: n(y), months: n(mo), milliseconds: Math.round(n(w) * 7 * DAY_MS + n(d) * DAY_MS + n(h) * 3_600_000 + n(mi) * 60_000 + n(s) * 1000) };
  if (duration.years === 0 && duration.months === 0 && duration.milliseconds === 0) return `"${text}" is an empty duration`;
  if (duration.years > 100 || duration.milliseconds > 100 * 366 * DAY_MS) return `"${text}" is longer than 100 years`;
  return duration;
}

/** The instant `duration` before `now` (epoch milliseconds). */
export function subtractDuration(now: number, duration: Duration): number {
  let t = now;
  if (duration.years !== 0 || duration.months !== 0) {
    const date = new Date(now);
    const totalMonths = date.getUTCFullYear() * 12 + date.getUTCMonth() - duration.years * 12 - duration.months;
    const year = Math.floor(totalMonths / 12);
    const month = totalMonths - year * 12;
    const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    const shifted = new Date(now);
    shifted.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
    t = shifted.getTime();
  }
  return t - duration.milliseconds;
}

/** Parses a duration already accepted by `validateDefinition`. */
export function durationOf(text: string): Duration {
  const parsed = parseDuration(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}
