import { context, propagation, trace, SpanKind, SpanStatusCode, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';

/** Minimal view of a header map (NATS MsgHdrs fits it). */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  has(key: string): boolean;
}

const setter: TextMapSetter<HeaderCarrier> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
const getter: TextMapGetter<HeaderCarrier> = {
  keys: () => ['traceparent', 'tracestate', 'baggage'],
  get: (carrier, key) => (carrier.has(key) ? carrier.get(key) : undefined),
};

export const tracer = () => trace.getTracer('segmenta');

/** Writes W3C trace context of `ctx` (default: the active one) into message headers. */
export function injectTraceContext(headers: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, setter);
}

export function extractTraceContext(headers: HeaderCarrier | undefined): Context {
  return headers ? propagation.extract(context.active(), headers, getter) : context.active();
}

/** Runs `work` inside a span, recording an exception and error status when it throws. */
export async function inSpan<T>(
  name: string,
  options: { kind: 'producer' | 'consumer' | 'internal'; parent?: Context; attributes?: Record<string, string | number> },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const kind = { producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER, internal: SpanKind.INTERNAL }[options.kind];
  return tracer().startActiveSpan(name, { kind, attributes: options.attributes }, options.parent ?? context.active(), async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Trace and span id of the active span, for log correlation. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  const spanContext = span?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}
