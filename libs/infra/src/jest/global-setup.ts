import { ensureNats, type NatsEndpoint } from '../nats';
import { ensurePostgres } from '../postgres';

declare global {
  var __segmentaNats: NatsEndpoint | undefined;
}

/**
 * Runs once per Jest run: finds or starts NATS, finds PostgreSQL, and hands both to the test
 * workers through the environment. On CI (or with SEGMENTA_REQUIRE_POSTGRES=1) a real
 * PostgreSQL server is required; elsewhere the embedded PGlite is the fallback.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.SEGMENTA_INFRA_READY === '1') return;
  const log = (line: string) => process.stderr.write(`[infra] ${line}\n`);
  const requireServer = process.env.CI === 'true' || process.env.SEGMENTA_REQUIRE_POSTGRES === '1';
  const nats = await ensureNats({ url: process.env.NATS_URL, log });
  const postgres = await ensurePostgres({ url: process.env.DATABASE_URL, requireServer, log });
  globalThis.__segmentaNats = nats;
  process.env.NATS_URL = nats.url;
  if (postgres.url) process.env.DATABASE_URL = postgres.url;
  else delete process.env.DATABASE_URL;
  process.env.SEGMENTA_INFRA_READY = '1';
  log(`NATS ${nats.url} (${nats.source}); PostgreSQL ${postgres.url ? postgres.url.replace(/\/\/[^@]*@/, '//') : 'embedded PGlite'} (${postgres.source})`);
}
