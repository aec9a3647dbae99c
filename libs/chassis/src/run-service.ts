import type { INestApplication } from '@nestjs/common';
import type { Telemetry } from '@segmenta/telemetry';
import { ConfigError } from './config';

/**
 * Entry point helper for main.ts: a configuration error prints its one line and exits 1; any
 * other start-up error is printed with its cause; telemetry is flushed after the app closes.
 */
export async function runService(start: () => Promise<INestApplication>, telemetry?: Telemetry): Promise<void> {
  let app: INestApplication;
  try {
    app = await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(`Start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    await telemetry?.shutdown();
    process.exit(1);
  }
  // Nest's shutdown hooks close the app on SIGTERM/SIGINT; flush spans after that.
  process.once('exit', () => undefined);
  const close = app.close.bind(app);
  app.close = async () => {
    await close();
    await telemetry?.shutdown();
  };
}
