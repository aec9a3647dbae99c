import type { ApiErrorDetail } from '@segmenta/contracts';
import type { Checked } from './offer-rules';

/**
 * An offer's validity window as people plan it — "from 27 Nov 00:00 to 30 Nov 23:59, Berlin time" —
 * resolved to the instants it covers. Pure: only Intl, which knows the IANA zone rules.
 */
export interface ValidityWindow {
  /** Local date-times as given (`2026-11-27T00:00:00`), no offset. */
  startsAtLocal: string;
  endsAtLocal: string | null;
  /** The canonical IANA name (Intl's spelling). */
  timeZone: string;
  startsAt: Date;
  /** null: no end. */
  endsAt: Date | null;
}

/** `YYYY-MM-DDTHH:mm` or `YYYY-MM-DDTHH:mm:ss`, without an offset: the zone is `timeZone`. */
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

export interface LocalFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The canonical name of an IANA time zone, or undefined when Intl does not know it. */
export function canonicalTimeZone(timeZone: unknown): string | undefined {
  // Offsets ("+02:00") are valid for Intl but are no zone: they know no daylight saving time.
  if (typeof timeZone !== 'string' || timeZone.length > 64 || !/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(timeZone)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The wall-clock fields of `instant` in `timeZone`. */
export function localFieldsAt(instantMs: number, timeZone: string): LocalFields {
  const parts = Object.fromEntries(
    formatterOf(timeZone)
      .formatToParts(new Date(instantMs))
      .map((p) => [p.type, Number(p.value)]),
  );
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

const asUtcMs = (f: LocalFields) => {
  const date = new Date(0);
  date.setUTCFullYear(f.year, f.month - 1, f.day);
  date.setUTCHours(f.hour, f.minute, f.second, 0);
  return date.getTime();
};

/** The zone's offset from UTC at `instantMs`, in milliseconds (Berlin in summer: +7,200,000). */
const offsetAt = (instantMs: number, timeZone: string) => asUtcMs(localFieldsAt(instantMs, timeZone)) - Math.floor(instantMs / 1000) * 1000;

export function parseLocalDateTime(text: unknown): LocalFields | undefined {
  const match = typeof text === 'string' ? LOCAL_DATE_TIME.exec(text) : null;
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((v) => Number(v ?? 0));
  const fields = { year, month, day, hour, minute, second };
  // Reject 2026-02-30 and 25:00: the UTC round trip must give the same fields back.
  const back = new Date(asUtcMs(fields));
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  return fields;
}

/**
 * The instant a local date-time names in `timeZone`. A time that occurs twice (clocks go back)
 * resolves to its first occurrence, so a window never starts or ends an hour late; a time that
 * does not occur (clocks go forward) is `'skipped'`: the admin must pick a time that exists.
 */
export function resolveLocalDateTime(local: LocalFields, timeZone: string): Date | 'skipped' {
  const wall = asUtcMs(local);
  // Every offset the zone can have around that day: a day before and after covers any transition.
  const offsets = new Set([offsetAt(wall - 86_400_000, timeZone), offsetAt(wall, timeZone), offsetAt(wall + 86_400_000, timeZone)]);
  const candidates = [...offsets].map((offset) => wall - offset).filter((instant) => asUtcMs(localFieldsAt(instant, timeZone)) === wall);
  if (candidates.length === 0) return 'skipped';
  return new Date(Math.min(...candidates));
}

/** Checks and resolves `startsAt`, `endsAt` (optional: no end) and `timeZone`; the end must come after the start. */
export function resolveValidityWindow(input: { startsAt: unknown; endsAt?: unknown; timeZone: unknown }): Checked<ValidityWindow> {
  const problems: ApiErrorDetail[] = [];
  const timeZone = canonicalTimeZone(input.timeZone);
  if (input.timeZone === undefined || input.timeZone === null) problems.push({ field: 'timeZone', problem: 'is required' });
  else if (!timeZone) problems.push({ field: 'timeZone', problem: 'must be an IANA time zone such as Europe/Berlin or America/New_York' });
  const resolve = (field: 'startsAt' | 'endsAt', value: unknown): Date | undefined => {
    const local = parseLocalDateTime(value);
    if (!local) {
      problems.push({ field, problem: 'must be a local date-time such as 2026-11-27T00:00 (no offset: the zone is timeZone)' });
      return undefined;
    }
    if (!timeZone) return undefined;
    const instant = resolveLocalDateTime(local, timeZone);
    if (instant === 'skipped') {
      problems.push({ field, problem: `does not exist in ${timeZone}: the clocks skip it (daylight saving time); pick a time outside the gap` });
      return undefined;
    }
    return instant;
  };
  if (input.startsAt === undefined || input.startsAt === null) problems.push({ field: 'startsAt', problem: 'is required' });
  const startsAt = input.startsAt === undefined || input.startsAt === null ? undefined : resolve('startsAt', input.startsAt);
  const hasEnd = input.endsAt !== undefined && input.endsAt !== null;
  const endsAt = hasEnd ? resolve('endsAt', input.endsAt) : undefined;
  if (startsAt && endsAt && endsAt.getTime() <= startsAt.getTime()) problems.push({ field: 'endsAt', problem: `must be after startsAt (${input.startsAt as string} in ${timeZone})` });
  if (problems.length > 0 || !startsAt || !timeZone) return { ok: false, problems };
  return {
    ok: true,
    value: { startsAtLocal: normalizedLocal(input.startsAt as string), endsAtLocal: hasEnd ? normalizedLocal(input.endsAt as string) : null, timeZone, startsAt, endsAt: endsAt ?? null },
  };
}

/** Seconds always written: `2026-11-27T00:00` → `2026-11-27T00:00:00`, so equal times compare equal. */
const normalizedLocal = (text: string) => (text.length === 16 ? `${text}:00` : text);
