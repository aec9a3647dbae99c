import { startTelemetry } from '@segmenta/telemetry';

// Telemetry first: its instrumentation patches modules as they are required.
const telemetry = startTelemetry({ serviceName: 'ingestion', otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });

void import('@segmenta/chassis').then(async ({ runService }) => {
  const { startIngestion } = await import('./start');
  await runService(() => startIngestion(process.env), telemetry);
});
