import type { LogLevel } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createLogger, createNestLogger, parseLogLevel } from './logger';
import { withoutQueryValues } from './request-logging';

describe('service logger (pino behind Nest)', () => {
  const lines: string[] = [];
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const nestLogger = (service: string, level: LogLevel = 'log') => createNestLogger(createLogger({ service, level, sink: (line) => lines.push(line) }));

  beforeEach(() => lines.splice(0));
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('writes one JSON object per line with time, level, service, context and message', () => {
    nestLogger('profiles').log('listening', 'Bootstrap');
    expect(lines).toHaveLength(1);
    expect(entries()[0]).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: 'info', service: 'profiles', context: 'Bootstrap', msg: 'listening' });
  });

  it('drops messages below its level', () => {
    const logger = nestLogger('profiles', 'warn');
    logger.debug?.('noise');
    logger.log('noise');
    logger.warn('careful');
    logger.error('broken');
    expect(entries().map((e) => e.level)).toEqual(['warn', 'error']);
  });

  it('keeps the fields of an object message and the stack of an error', () => {
    const logger = nestLogger('ingestion');
    logger.log({ msg: 'accepted', count: 3 }, 'Tracking');
    logger.error(new Error('publish failed'), 'Tracking');
    expect(entries()[0]).toMatchObject({ msg: 'accepted', count: 3, context: 'Tracking' });
    expect(entries()[1]).toMatchObject({ level: 'error', context: 'Tracking', err: { message: 'publish failed' } });
    expect(String((entries()[1].err as { stack: string }).stack)).toContain('logger.spec.ts');
  });

  it('adds the trace and span id of the active span', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    const logger = nestLogger('offers');
    const ids = trace.getTracer('test').startActiveSpan('request', (span) => {
      logger.log('inside');
      span.end();
      return span.spanContext();
    });
    expect(entries()[0]).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
  });

  it('redacts PII and secrets: email, phone, traits, write keys, authorization, cookies, bodies', () => {
    const logger = nestLogger('ingestion');
    logger.log({ msg: 'identify', email: 'ann@example.com', traits: { email: 'ann@example.com', plan: 'gold' }, writeKey: 'wk-secret-1' }, 'Tracking');
    logger.warn({ msg: 'refused', message: { phone: '+4912345', body: { email: 'bob@example.com' } } }, 'Tracking');
    logger.log({ msg: 'request', req: { method: 'POST', headers: { authorization: 'Basic d2stc2VjcmV0LTE6', cookie: 'sid=abc' } } });
    const log = lines.join('\n');
    for (const secret of ['ann@example.com', 'bob@example.com', '+4912345', 'wk-secret-1', 'd2stc2VjcmV0LTE6', 'sid=abc', 'gold']) expect(log).not.toContain(secret);
    expect(entries()[0]).toMatchObject({ msg: 'identify', email: '[redacted]', traits: '[redacted]', writeKey: '[redacted]' });
    expect(entries()[2]).toMatchObject({ req: { method: 'POST', headers: { authorization: '[redacted]', cookie: '[redacted]' } } });
  });

  it('keeps each service its own logger when several run in one process (as in tests)', () => {
    const first = nestLogger('profiles');
    const second = nestLogger('offers');
    first.log('a');
    second.log('b');
    expect(entries().map((e) => [e.service, e.msg])).toEqual([
      ['profiles', 'a'],
      ['offers', 'b'],
    ]);
  });

  it('logs the names of query parameters, not their values', () => {
    expect(withoutQueryValues('/v1/profiles?email=ann%40example.com&phone=1')).toBe('/v1/profiles?email=[redacted]&phone=[redacted]');
    expect(withoutQueryValues('/v1/track')).toBe('/v1/track');
  });

  it('reads LOG_LEVEL as a Nest level, accepting info for log', () => {
    expect(parseLogLevel('debug')).toBe('debug');
    expect(parseLogLevel('info')).toBe('log');
    expect(parseLogLevel(undefined)).toBe('log');
  });
});
