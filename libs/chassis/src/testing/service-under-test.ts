import type { INestApplication } from '@nestjs/common';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';
import type { LogSink } from '@segmenta/telemetry';

export interface ServiceUnderTest {
  app: INestApplication;
  /** The NATS_PREFIX of this test's streams and subjects. */
  prefix: string;
  natsUrl: string;
  database: TestDatabase;
  /** Closes the app, drops its database and deletes its streams. */
  close(): Promise<void>;
}

/**
 * Starts a service in-process the way main.ts does, on a free port, with its own database
 * (PostgreSQL or PGlite) and its own stream namespace on the shared NATS server.
 */
export async function startServiceUnderTest(
  start: (env: Record<string, string | undefined>, logSink?: LogSink) => Promise<INestApplication>,
  options: { label: string; driver?: 'node-postgres' | 'pglite'; env?: Record<string, string>; logSink?: LogSink },
): Promise<ServiceUnderTest> {
  const natsUrl = process.env.NATS_URL;
  if (!natsUrl) throw new Error('NATS_URL is not set: run the tests through Jest (its global setup finds NATS)');
  const namespace = createTestNamespace(natsUrl, options.label);
  const database = await createTestDatabase({ driver: options.driver });
  let app: INestApplication;
  try {
    app = await start(
      {
        PORT: '0',
        NATS_URL: natsUrl,
        NATS_PREFIX: namespace.prefix,
        DATABASE_URL: database.url,
        DATA_DIR: 'memory://',
        // TEST_LOG_LEVEL=warn (or debug) shows a service's log while a test runs, to diagnose it.
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
        ...options.env,
      },
      options.logSink ?? (process.env.TEST_LOG_LEVEL ? (line) => process.stderr.write(`[${options.label}] ${line}`) : () => undefined),
    );
  } catch (error) {
    await database.drop();
    await namespace.cleanup();
    throw error;
  }
  return {
    app,
    prefix: namespace.prefix,
    natsUrl,
    database,
    close: async () => {
      await app.close();
      await database.drop();
      await namespace.cleanup();
    },
  };
}
