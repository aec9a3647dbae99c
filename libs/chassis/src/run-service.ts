import type { INestApplication } from '@nestjs/common';
import type { Telemetry } from '@segmenta/telemetry';
import { ConfigError } from './config';

/** How long a graceful shutdown may take before the process gives up and exits 1. */
const SHUTDOWN_TIMEOUT_MS = 25000;

/**
 * Entry point helper for main.ts. A configuration error prints its one line and exits 1; any other
 * start-up error prints its stack and exits 1. On SIGTERM/SIGINT the app closes (consumers drain,
 * the message in hand is finished and acked, the pool closes), spans are flushed, and the process
 * exits 0.
 */
export async function runService(start: () => Promise<INestApplication>, telemetry?: Telemetry): Promise<void> {
  let app: INestApplication;
  try {
    app = await start();
  } catch (error) {
    process.stderr.write(
      error instanceof ConfigError
        ? `${error.message}\n`
        : `Start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    await telemetry?.shutdown();
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => {
      process.stderr.write(`Shutdown after ${signal} took longer than ${SHUTDOWN_TIMEOUT_MS} ms; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      await app.close();
      await telemetry?.shutdown();
      process.exit(0);
    } catch (error) {
      process.stderr.write(`Shutdown failed: ${(error as Error).message}\n`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
