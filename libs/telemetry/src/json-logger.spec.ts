import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { JsonLogger } from './json-logger';

describe('JsonLogger', () => {
  const lines: string[] = [];
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeEach(() => lines.splice(0));
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('writes one JSON object per line with time, level, service, context and message', () => {
    new JsonLogger('profiles', 'log', (line) => lines.push(line)).log('listening', 'Bootstrap');
    expect(lines).toHaveLength(1);
    expect(entries()[0]).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: 'info', service: 'profiles', context: 'Bootstrap', msg: 'listening' });
  });

  it('drops messages below its level', () => {
    const logger = new JsonLogger('profiles', 'warn', (line) => lines.push(line));
    logger.debug('noise');
    logger.log('noise');
    logger.warn('careful');
    logger.error('broken');
    expect(entries().map((e) => e.level)).toEqual(['warn', 'error']);
  });

  it('keeps the fields of an object message and the stack of an error', () => {
    const logger = new JsonLogger('ingestion', 'log', (line) => lines.push(line));
    logger.log({ msg: 'accepted', count: 3 }, 'Tracking');
    logger.error(new Error('publish failed'), 'Tracking');
    expect(entries()[0]).toMatchObject({ msg: 'accepted', count: 3, context: 'Tracking' });
    expect(entries()[1]).toMatchObject({ level: 'error', msg: 'publish failed', context: 'Tracking' });
    expect(String(entries()[1].stack)).toContain('json-logger.spec.ts');
  });

  it('adds the trace and span id of the active span', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    const logger = new JsonLogger('offers', 'log', (line) => lines.push(line));
    const ids = trace.getTracer('test').startActiveSpan('request', (span) => {
      logger.log('inside');
      span.end();
      return span.spanContext();
    });
    expect(entries()[0]).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
  });
});
