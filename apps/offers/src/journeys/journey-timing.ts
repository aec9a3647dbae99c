import { createHash } from 'node:crypto';
import { localFieldsAt, resolveLocalDateTime, type LocalFields } from '../catalog/validity-window';

/**
 * The timing rules of journeys (issue 20), pure: waits given as durations or as a time of day in the
 * customer's time zone, quiet hours, re-entry after N days, frequency caps per channel, and the
 * branch of a random split. Executors store what these return; they never compute times themselves.
 */

const DAY_MS = 86_400_000;
const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** An ISO 8601 duration of weeks, days, hours, minutes and seconds (`P3D`, `PT12H`, `P1DT30M`) in ms; undefined when it is none or zero. */
export function durationMs(text: unknown): number | undefined {
  if (typeof text !== 'string' || text === 'P' || text.endsWith('T')) return undefined;
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const [weeks, days, hours, minutes, seconds] = match.slice(1).map((v) => Number(v ?? 0));
  const ms = ((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
  return ms > 0 ? ms : undefined;
}

/** `HH:MM` as minutes after midnight; undefined when it is not a time of day. */
export function minutesOfDay(text: unknown): number | undefined {
  const match = typeof text === 'string' ? HH_MM.exec(text) : null;
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** The instant `minutes` after local midnight on the local day of `fields`, plus `plusDays`; a time the clocks skip moves to the first instant after. */
function atLocalMinutes(fields: LocalFields, minutes: number, plusDays: number, timeZone: string): Date {
  const day = new Date(Date.UTC(fields.year, fields.month - 1, fields.day + plusDays));
  const local = { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0 };
  const resolved = resolveLocalDateTime(local, timeZone);
  if (resolved !== 'skipped') return resolved;
  // Clocks went forward over that time (02:30 on the night of the change): the hour after it.
  const later = resolveLocalDateTime({ ...local, hour: local.hour + 1 }, timeZone);
  return later === 'skipped' ? new Date(Date.UTC(local.year, local.month - 1, local.day, local.hour + 1, local.minute)) : later;
}

/** The next instant after `now` at which it is `timeOfDay` (HH:MM) in `timeZone`: today if still ahead, else tomorrow. */
export function nextTimeOfDay(now: Date, timeOfDay: string, timeZone: string): Date {
  const minutes = minutesOfDay(timeOfDay);
  if (minutes === undefined) throw new Error(`not a time of day: ${timeOfDay}`);
  const today = localFieldsAt(now.getTime(), timeZone);
  const candidate = atLocalMinutes(today, minutes, 0, timeZone);
  return candidate.getTime() > now.getTime() ? candidate : atLocalMinutes(today, minutes, 1, timeZone);
}

/** Quiet hours in the customer's time zone, `HH:MM` to `HH:MM`; they may span midnight (22:00–08:00). */
export interface QuietHours {
  start: string;
  end: string;
}

/** `at`, or the end of the quiet hours it falls in (a message is held, not dropped). */
export function afterQuietHours(at: Date, quiet: QuietHours | null, timeZone: string): Date {
  if (quiet === null) return at;
  const start = minutesOfDay(quiet.start);
  const end = minutesOfDay(quiet.end);
  if (start === undefined || end === undefined || start === end) return at;
  const local = localFieldsAt(at.getTime(), timeZone);
  const minute = local.hour * 60 + local.minute;
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return at;
  // The end is today when it is still ahead of the local time, else tomorrow (quiet hours over midnight).
  return atLocalMinutes(local, end, minute < end ? 0 : 1, timeZone);
}

/** Whether a customer may enter a journey again: `never`, or `after` N days since their last entry. */
export type ReentryPolicy = { policy: 'never' } | { policy: 'after'; days: number };

export function reentryAllowed(lastEnteredAt: Date | null, policy: ReentryPolicy, now: Date): boolean {
  if (lastEnteredAt === null) return true;
  return policy.policy === 'after' && now.getTime() - lastEnteredAt.getTime() >= policy.days * DAY_MS;
}

/** At most `perDay` and `perWeek` messages per customer per channel, over all journeys (rolling 24 h and 7 days). */
export interface FrequencyCap {
  perDay: number | null;
  perWeek: number | null;
}

/** Whether one more message fits the caps given the customer's sends on the channel; the reason when it does not. */
export function frequencyCapVerdict(sentAt: readonly Date[], cap: FrequencyCap, now: Date): { allowed: true } | { allowed: false; reason: string } {
  const within = (ms: number) => sentAt.filter((t) => now.getTime() - t.getTime() < ms && t.getTime() <= now.getTime()).length;
  if (cap.perDay !== null && within(DAY_MS) >= cap.perDay) return { allowed: false, reason: `frequency cap: ${cap.perDay} per day reached` };
  if (cap.perWeek !== null && within(7 * DAY_MS) >= cap.perWeek) return { allowed: false, reason: `frequency cap: ${cap.perWeek} per week reached` };
  return { allowed: true };
}

/**
 * The branch of a random split for an enrollment, by weight: deterministic (a hash of the
 * enrollment and the step), so a step run again after a crash takes the same branch.
 */
export function splitBranch(enrollmentId: string, stepId: string, weights: readonly number[]): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (weights.length === 0 || !(total > 0) || weights.some((w) => !(w >= 0))) throw new Error('a split needs non-negative weights with a positive sum');
  const unit = createHash('sha256').update(`${enrollmentId}:${stepId}`).digest().readUInt32BE(0) / 2 ** 32;
  let upTo = 0;
  for (let i = 0; i < weights.length; i += 1) {
    upTo += weights[i] / total;
    if (unit < upTo) return i;
  }
  return weights.length - 1;
}
