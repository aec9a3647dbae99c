import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT). Unset: no tracing at all. */
  otlpEndpoint?: string;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/**
 * Starts the OpenTelemetry NodeSDK with HTTP, Express, Nest and pg instrumentation when traces have
 * somewhere to go (an OTLP endpoint). Call it before the Nest modules are required: instrumentation
 * patches `require`. Without an endpoint nothing is started (ADR 22): spans nobody collects cost a
 * hot route a fifth of its throughput (issue 18's bench); logs still join up by request id.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (started) return started;
  if (!options.otlpEndpoint) {
    started = { shutdown: async () => undefined };
    return started;
  }
  // The SDK would otherwise export metrics and logs to localhost:4318 and stall shutdown retrying.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }));
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: [spanProcessor],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/health' || req.url === '/ready' }),
      // No span per Express middleware (traffic control, body parsing, logging…): a dozen spans a
      // request that say nothing a trace needs, and a tenth of a hot route's CPU (issue 18's bench).
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new NestInstrumentation(),
      new PgInstrumentation(),
    ],
  });
  sdk.start();
  started = {
    shutdown: async () => {
      await sdk.shutdown().catch(() => undefined);
    },
  };
  return started;
}
