/**
 * When a webhook delivery is tried again (issue 20): exponential backoff with full jitter for a
 * configurable time; 4xx answers other than 408 and 429 are final (the receiver refused the
 * message itself), as are 2xx; 5xx, 408, 429 and network errors are tried again.
 */
export interface RetryPolicy {
  /** Delay before the first retry, before jitter. */
  initialDelayMs: number;
  /** Growth of the delay per attempt. */
  factor: number;
  /** The delay never grows past this. */
  maxDelayMs: number;
  /** No attempt starts later than this after the first. */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialDelayMs: 1000, factor: 2, maxDelayMs: 10 * 60_000, giveUpAfterMs: 24 * 3_600_000 };

/** What an attempt's outcome means: delivered, refused for good, or to be tried again. */
export type AttemptVerdict = 'delivered' | 'refused' | 'retry';

/** An HTTP status (undefined: no answer — a timeout, a refused connection) as a verdict. */
export function attemptVerdict(status: number | undefined): AttemptVerdict {
  if (status === undefined) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429) return 'retry';
  if (status >= 400 && status < 500) return 'refused';
  return 'retry';
}

/**
 * The delay before retry number `retry` (1 for the first): a uniform draw between 0 and the capped
 * exponential delay (full jitter, so that receivers that came back are not hit by every sender at
 * once); null when the next attempt would start after `giveUpAfterMs` from the first.
 * `random` returns a number in [0, 1).
 */
export function retryDelayMs(retry: number, elapsedMs: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY, random: () => number = Math.random): number | null {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError('retry counts from 1');
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (retry - 1));
  const delay = Math.floor(random() * ceiling);
  return elapsedMs + delay > policy.giveUpAfterMs ? null : delay;
}
