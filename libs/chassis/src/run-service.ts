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
    process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `Start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await telemetry?.shutdown();
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals | 'parent exit') => {
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
  process.once('SIGHUP', () => void shutdown('SIGHUP'));
  watchParent(() => void shutdown('parent exit'));
}

/**
 * SEGMENTA_EXIT_WITH_PARENT=<pid> (set by whatever starts services as child processes: the demo,
 * tests): stop when that process is gone. A demo killed with SIGKILL, or whose npm wrapper was
 * killed, otherwise left five services running under PID 1, holding their ports.
 */
export function watchParent(onExit: () => void, env: NodeJS.ProcessEnv = process.env, intervalMs = 1000): NodeJS.Timeout | undefined {
  const parent = Number(env.SEGMENTA_EXIT_WITH_PARENT);
  if (!Number.isInteger(parent) || parent <= 1) return undefined;
  const timer = setInterval(() => {
    // Re-parented (to init or a subreaper) once the parent died.
    if (process.ppid !== parent) {
      clearInterval(timer);
      onExit();
    }
  }, intervalMs);
  timer.unref();
  return timer;
}
