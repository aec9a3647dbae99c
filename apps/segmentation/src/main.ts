import { startTelemetry } from '@segmenta/telemetry';

// Telemetry first: its instrumentation patches modules as they are required.
const telemetry = startTelemetry({ serviceName: 'segmentation', otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });

void import('@segmenta/chassis').then(async ({ runService }) => {
  const { startSegmentation } = await import('./start');
  await runService(() => startSegmentation(process.env), telemetry);
});
