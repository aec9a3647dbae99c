import { attemptVerdict, retryDelayMs, type RetryPolicy } from './delivery-policy';

describe('webhook delivery policy', () => {
  it('delivers on 2xx, gives up on a 4xx other than 408 and 429, and tries again on those, 5xx and no answer', () => {
    expect([200, 202, 204].map(attemptVerdict)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([400, 401, 404, 410, 422].map(attemptVerdict)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
    expect([408, 429, 500, 502, 503, undefined].map(attemptVerdict)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry', 'retry']);
    expect(attemptVerdict(301)).toBe('retry');
  });

  const policy: RetryPolicy = { initialDelayMs: 1000, factor: 2, maxDelayMs: 60_000, giveUpAfterMs: 3_600_000 };

  it('draws each delay uniformly below an exponential ceiling that stops growing at the maximum', () => {
    expect([1, 2, 3, 4].map((retry) => retryDelayMs(retry, 0, policy, () => 0.999999))).toEqual([999, 1999, 3999, 7999]);
    expect(retryDelayMs(10, 0, policy, () => 0.999999)).toBe(59_999);
    expect(retryDelayMs(3, 0, policy, () => 0)).toBe(0);
    // Full jitter: over many draws the delays spread across [0, ceiling) with mean ≈ ceiling / 2.
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const draws = Array.from({ length: 20_000 }, () => retryDelayMs(3, 0, policy, random) as number);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(4000);
    expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeGreaterThan(1900);
    expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeLessThan(2100);
  });

  it('stops when the next attempt would start after the give-up time', () => {
    expect(retryDelayMs(5, 3_590_000, policy, () => 0.999)).toBeNull();
    expect(retryDelayMs(5, 3_590_000, policy, () => 0.5)).toBe(8000);
    expect(() => retryDelayMs(0, 0, policy)).toThrow(RangeError);
  });
});
