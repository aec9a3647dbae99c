import { STREAMS, type StreamKey } from '@segmenta/contracts';

/** How long and how much a stream keeps before JetStream discards its oldest messages. */
export interface StreamRetention {
  maxAgeMs: number;
  /** -1: no size limit. */
  maxBytes: number;
}

const DAY_MS = 86_400_000;

/**
 * Defaults: the raw and derived customer streams a week (enough to rebuild a read model or ride
 * out a long outage; the services keep their own state), outcomes and dead letters a month.
 * Streams used to keep everything forever, personal data included. No size limit unless one is
 * configured: JetStream reserves a stream's max_bytes from the server's storage up front, so a
 * default of gigabytes per stream exhausted a shared server (every test namespace reserved it).
 */
export const DEFAULT_STREAM_RETENTION: Record<StreamKey, StreamRetention> = {
  EVENTS: { maxAgeMs: 7 * DAY_MS, maxBytes: -1 },
  PROFILES: { maxAgeMs: 7 * DAY_MS, maxBytes: -1 },
  SEGMENTS: { maxAgeMs: 7 * DAY_MS, maxBytes: -1 },
  OFFERS: { maxAgeMs: 30 * DAY_MS, maxBytes: -1 },
  EXPERIMENTS: { maxAgeMs: 30 * DAY_MS, maxBytes: -1 },
  DLQ: { maxAgeMs: 30 * DAY_MS, maxBytes: -1 },
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3, tb: 1000 ** 4, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** `7d`, `36h`, `90m`, `1w`: milliseconds; throws naming the variable otherwise. */
export function parseDuration(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(value);
  if (!match || Number(match[1]) <= 0) throw new Error(`${name} must be a positive duration such as 7d, 36h or 90m (got "${value}")`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2].toLowerCase()]);
}

/** `5GiB`, `500MB`, `1024`: bytes; throws naming the variable otherwise. */
export function parseSize(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(value);
  if (!match || Number(match[1]) <= 0) throw new Error(`${name} must be a positive size such as 5GiB or 500MB (got "${value}")`);
  return Math.round(Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()]);
}

/**
 * Retention per stream from the environment: NATS_STREAM_MAX_AGE and NATS_STREAM_MAX_BYTES for
 * every stream, NATS_STREAM_<NAME>_MAX_AGE and NATS_STREAM_<NAME>_MAX_BYTES for one (EVENTS,
 * PROFILES, SEGMENTS, OFFERS, EXPERIMENTS, DLQ); the defaults above where unset.
 */
export function streamRetentionFromEnv(env: Record<string, string | undefined>): Record<StreamKey, StreamRetention> {
  const out = {} as Record<StreamKey, StreamRetention>;
  for (const key of Object.keys(STREAMS) as StreamKey[]) {
    const age = env[`NATS_STREAM_${key}_MAX_AGE`] ?? env.NATS_STREAM_MAX_AGE;
    const size = env[`NATS_STREAM_${key}_MAX_BYTES`] ?? env.NATS_STREAM_MAX_BYTES;
    out[key] = {
      maxAgeMs: age ? parseDuration(age, env[`NATS_STREAM_${key}_MAX_AGE`] ? `NATS_STREAM_${key}_MAX_AGE` : 'NATS_STREAM_MAX_AGE') : DEFAULT_STREAM_RETENTION[key].maxAgeMs,
      maxBytes: size ? parseSize(size, env[`NATS_STREAM_${key}_MAX_BYTES`] ? `NATS_STREAM_${key}_MAX_BYTES` : 'NATS_STREAM_MAX_BYTES') : DEFAULT_STREAM_RETENTION[key].maxBytes,
    };
  }
  return out;
}
