import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** URL of the isolated database, or undefined for an in-memory PGlite. */
  url: string | undefined;
  driver: 'node-postgres' | 'pglite';
  /** Drops the database (with FORCE, so lingering connections do not block it). */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * An isolated database for one test file: a fresh PostgreSQL database on the server named by
 * DATABASE_URL (set by the Jest global setup), or an in-memory PGlite when no server is configured.
 */
export async function createTestDatabase(options: { serverUrl?: string | undefined; driver?: 'node-postgres' | 'pglite' } = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? process.env.DATABASE_URL;
  const driver = options.driver ?? (serverUrl ? 'node-postgres' : 'pglite');
  if (driver === 'pglite') {
    return { url: undefined, driver, drop: async () => undefined };
  }
  if (!serverUrl) throw new Error('createTestDatabase: node-postgres needs DATABASE_URL or serverUrl');
  const name = `segmenta_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    driver,
    drop: async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** The drivers the persistence tests run against: PGlite always, node-postgres when a server is there. */
export function availableTestDrivers(): Array<'node-postgres' | 'pglite'> {
  return process.env.DATABASE_URL ? ['node-postgres', 'pglite'] : ['pglite'];
}
