import type { BaseServiceConfig } from '../config';
import { Metrics } from '../metrics';
import { FixedWindowCounter } from './fixed-window';
import { TrafficControl, clientKey, type AdmittedResponse } from './traffic-control';

describe('FixedWindowCounter', () => {
  it('counts per key within a clock-aligned window and starts again in the next', () => {
    let now = 1_000_000;
    const counter = new FixedWindowCounter(2, 10, () => now);
    expect(counter.hit('a')).toMatchObject({ count: 1, remaining: 1, exceeded: false, resetSeconds: 10 });
    expect(counter.hit('b').count).toBe(1);
    now += 4_500;
    expect(counter.hit('a')).toMatchObject({ count: 2, remaining: 0, exceeded: false, resetSeconds: 6 });
    expect(counter.hit('a')).toMatchObject({ count: 3, remaining: 0, exceeded: true });
    now += 5_500;
    expect(counter.hit('a')).toMatchObject({ count: 1, remaining: 1, exceeded: false, resetSeconds: 10 });
  });
});

describe('clientKey', () => {
  it('counts IPv4 addresses one by one and IPv6 hosts by their /64', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:0:12:a::1')).toBe('2001:db8:0:12::/64');
    expect(clientKey('2001:0db8:0000:0012:ffff:1:2:3')).toBe('2001:db8:0:12::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('TrafficControl shedding on event-loop lag', () => {
  const config = {
    RATE_LIMIT_WINDOW_SECONDS: 10,
    RATE_LIMIT_PER_ADDRESS: 0,
    RATE_LIMIT_PER_KEY: 0,
    AUTH_FAILURE_LIMIT: 0,
    SHED_MAX_IN_FLIGHT: 0,
    SHED_EVENT_LOOP_LAG_MS: 150,
  } as BaseServiceConfig;

  function call(traffic: TrafficControl, url: string): { admitted: boolean; status?: number; headers: Record<string, string> } {
    const headers: Record<string, string> = {};
    const outcome: { admitted: boolean; status?: number; headers: Record<string, string> } = { admitted: false, headers };
    const response: AdmittedResponse = {
      setHeader: (name, value) => (headers[name.toLowerCase()] = value),
      getHeader: (name) => headers[name.toLowerCase()],
      status: (code) => ((outcome.status = code), { json: () => undefined }),
      once: () => undefined,
    };
    traffic.middleware()({ method: 'GET', url, socket: { remoteAddress: '127.0.0.1' } }, response, () => (outcome.admitted = true));
    return outcome;
  }

  it('answers 503 with Retry-After right after the loop was blocked, never to the probes, and admits again once it keeps time', async () => {
    const metrics = new Metrics();
    const traffic = new TrafficControl(config, metrics);
    traffic.onModuleInit();
    try {
      // Lag sheds only a process busy with requests of its own: eight stay in progress.
      for (let i = 0; i < 8; i += 1) expect(call(traffic, '/v1/track').admitted).toBe(true);
      const blockedUntil = performance.now() + 400;
      while (performance.now() < blockedUntil);
      // The lag sampler's timer is due before this one, so it has seen the block.
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(call(traffic, '/v1/track')).toMatchObject({ admitted: false, status: 503, headers: { 'retry-after': '1' } });
      expect(call(traffic, '/health?full=1')).toMatchObject({ admitted: true });
      expect(metrics.counter('segmenta_http_shed_total', '').value('{reason="event_loop_lag"}')).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(call(traffic, '/v1/track').admitted).toBe(true);
    } finally {
      traffic.onModuleDestroy();
    }
  });

  it('does not shed a process that lags with little work of its own (other processes took the CPU)', async () => {
    const traffic = new TrafficControl(config, new Metrics());
    traffic.onModuleInit();
    try {
      const blockedUntil = performance.now() + 400;
      while (performance.now() < blockedUntil);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(call(traffic, '/v1/track').admitted).toBe(true);
    } finally {
      traffic.onModuleDestroy();
    }
  });
});
