import { parseCommandLine, runCli } from '@segmenta/cli';
import { ensureNats } from './nats';
import { ensurePostgres } from './postgres';

const USAGE = `Usage: npm run infra
Finds NATS (NATS_URL, else 127.0.0.1:4222, else a private nats-server) and PostgreSQL (DATABASE_URL,
else 127.0.0.1:5432) and prints the environment for the services (export lines on stdout).`;

/**
 * `npm run infra`: finds or starts what the services need and prints the environment to use.
 * A private nats-server it started keeps running until Ctrl-C.
 */
async function main(): Promise<void> {
  parseCommandLine(process.argv.slice(2), {});
  const log = (line: string) => process.stderr.write(`[infra] ${line}\n`);
  const nats = await ensureNats({ url: process.env.NATS_URL, log });
  const postgres = await ensurePostgres({ url: process.env.DATABASE_URL, log });
  log(`NATS: ${nats.url} (${nats.source}); PostgreSQL: ${postgres.url ? postgres.source : 'none reachable, services will use the embedded PGlite'}`);
  process.stdout.write(`export NATS_URL=${nats.url}\n`);
  process.stdout.write(postgres.url ? `export DATABASE_URL=${postgres.url}\n` : 'unset DATABASE_URL\n');
  if (nats.source === 'private') {
    log('keeping the private nats-server running; Ctrl-C stops it');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await nats.stop();
  }
}

runCli(USAGE, main);
