import { Client } from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const POSTGRES_INSTALL_HINT =
  'install it with `apt-get install postgresql` or start one with `docker compose up -d nats postgres`';

export interface PostgresEndpoint {
  /** A server URL, or undefined for the embedded PGlite default. */
  url: string | undefined;
  source: 'configured' | 'local-default' | 'embedded';
}

export async function isPostgresReachable(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * DATABASE_URL when reachable, else 127.0.0.1:5432 as user postgres, else the embedded PGlite
 * (url undefined). With `requireServer` (tests on CI), the embedded fallback is an error instead.
 */
export async function ensurePostgres(
  options: { url?: string; defaultUrl?: string; requireServer?: boolean; log?: (line: string) => void } = {},
): Promise<PostgresEndpoint> {
  const log = options.log ?? (() => undefined);
  const defaultUrl = options.defaultUrl ?? DEFAULT_DATABASE_URL;
  if (options.url) {
    if (await isPostgresReachable(options.url)) return { url: options.url, source: 'configured' };
    log(`DATABASE_URL is set but not reachable; trying ${defaultUrl}`);
  }
  if (await isPostgresReachable(defaultUrl)) return { url: defaultUrl, source: 'local-default' };
  if (options.requireServer) {
    throw new Error(`No PostgreSQL server is reachable (DATABASE_URL or 127.0.0.1:5432): ${POSTGRES_INSTALL_HINT}`);
  }
  log('no PostgreSQL server reachable: using the embedded PGlite database');
  return { url: undefined, source: 'embedded' };
}
