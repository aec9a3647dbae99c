import { startTelemetry } from '@segmenta/telemetry';

// Telemetry first: its instrumentation patches modules as they are required, so the service
// itself (Nest, express, pg) is loaded only afterwards.
const telemetry = startTelemetry({ serviceName: 'profiles', otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });

// void: a failed start rejects unhandled, so Node prints the error and exits non-zero.
void import('./start').then(({ main }) => main(telemetry));
