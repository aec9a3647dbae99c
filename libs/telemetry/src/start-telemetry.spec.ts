import { context, propagation, trace } from '@opentelemetry/api';
import { startTelemetry } from './start-telemetry';

describe('startTelemetry', () => {
  it('starts nothing without an OTLP endpoint: no recording spans, no trace context in message headers', async () => {
    const telemetry = startTelemetry({ serviceName: 'offers' });
    const span = trace.getTracer('test').startSpan('request');
    expect(span.isRecording()).toBe(false);
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), headers);
    expect(headers).toEqual({});
    await telemetry.shutdown();
  });
});
