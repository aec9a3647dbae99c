/** One count against a limit, with what the RateLimit headers say about it. */
export interface WindowCount {
  limit: number;
  windowSeconds: number;
  count: number;
  remaining: number;
  /** Seconds until the window ends and the count starts again (at least 1). */
  resetSeconds: number;
  exceeded: boolean;
}

/**
 * Counts hits per key in fixed windows aligned to the clock (all keys share the window). At each
 * new window the whole map is dropped, so memory holds only the keys seen in the current window
 * and no sweep is needed. A client can get up to twice the limit across a window boundary; a
 * sliding window would cost a second map for a tighter bound that abuse protection does not need.
 */
export class FixedWindowCounter {
  private counts = new Map<string, number>();
  private window = -1;
  private readonly windowMs: number;

  constructor(
    readonly limit: number,
    readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = windowSeconds * 1000;
  }

  hit(key: string): WindowCount {
    const now = this.now();
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) {
      this.counts = new Map();
      this.window = window;
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return {
      limit: this.limit,
      windowSeconds: this.windowSeconds,
      count,
      remaining: Math.max(0, this.limit - count),
      resetSeconds: Math.max(1, Math.ceil(((window + 1) * this.windowMs - now) / 1000)),
      exceeded: count > this.limit,
    };
  }
}
