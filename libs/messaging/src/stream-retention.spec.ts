import { DEFAULT_STREAM_RETENTION, parseDuration, parseSize, streamRetentionFromEnv } from './stream-retention';

describe('stream retention', () => {
  it('reads durations and sizes with their units', () => {
    expect(parseDuration('7d', 'X')).toBe(7 * 86_400_000);
    expect(parseDuration('36h', 'X')).toBe(36 * 3_600_000);
    expect(parseDuration('90m', 'X')).toBe(90 * 60_000);
    expect(parseDuration('1.5s', 'X')).toBe(1500);
    expect(parseSize('5GiB', 'X')).toBe(5 * 1024 ** 3);
    expect(parseSize('500MB', 'X')).toBe(500_000_000);
    expect(parseSize('1024', 'X')).toBe(1024);
  });

  it('refuses what it cannot read, naming the variable', () => {
    expect(() => parseDuration('forever', 'NATS_STREAM_MAX_AGE')).toThrow('NATS_STREAM_MAX_AGE must be a positive duration such as 7d, 36h or 90m (got "forever")');
    expect(() => parseDuration('0d', 'X')).toThrow('positive duration');
    expect(() => parseSize('lots', 'NATS_STREAM_DLQ_MAX_BYTES')).toThrow('NATS_STREAM_DLQ_MAX_BYTES must be a positive size');
  });

  it('gives every stream a bounded default, and lets one variable set all streams and another one stream', () => {
    const defaults = streamRetentionFromEnv({});
    expect(defaults).toEqual(DEFAULT_STREAM_RETENTION);
    for (const retention of Object.values(defaults)) {
      expect(retention.maxAgeMs).toBeGreaterThan(0);
      // JetStream reserves max_bytes up front: no default size, or every test namespace reserves it.
      expect(retention.maxBytes).toBe(-1);
    }
    const configured = streamRetentionFromEnv({ NATS_STREAM_MAX_AGE: '2d', NATS_STREAM_EVENTS_MAX_AGE: '12h', NATS_STREAM_DLQ_MAX_BYTES: '10MB' });
    expect(configured.EVENTS.maxAgeMs).toBe(12 * 3_600_000);
    expect(configured.PROFILES.maxAgeMs).toBe(2 * 86_400_000);
    expect(configured.DLQ).toEqual({ maxAgeMs: 2 * 86_400_000, maxBytes: 10_000_000 });
    expect(configured.EVENTS.maxBytes).toBe(DEFAULT_STREAM_RETENTION.EVENTS.maxBytes);
    expect(() => streamRetentionFromEnv({ NATS_STREAM_PROFILES_MAX_AGE: 'soon' })).toThrow('NATS_STREAM_PROFILES_MAX_AGE');
  });
});
