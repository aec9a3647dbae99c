import { startTelemetry } from '@segmenta/telemetry';

// Telemetry first: its instrumentation patches modules as they are required.
const telemetry = startTelemetry({ serviceName: 'profiles', otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });

void import('@segmenta/chassis').then(async ({ runService }) => {
  const { startProfiles } = await import('./start');
  await runService(() => startProfiles(process.env), telemetry);
});
