import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { Pool } from 'pg';
import { isEmptyPgliteDir, readPgliteTemplate } from './pglite-template';

/** The Drizzle database every repository receives, whichever driver is underneath. */
export type Db<TSchema extends Record<string, unknown> = Record<string, never>> = PgDatabase<PgQueryResultHKT, TSchema>;

export interface DatabaseOptions<TSchema extends Record<string, unknown>> {
  /** PostgreSQL server URL. Unset: embedded PGlite. */
  url?: string;
  /** PGlite data directory (unset with no url: in memory). */
  pgliteDataDir?: string;
  /** Drizzle schema objects (tables), for relational queries. */
  schema?: TSchema;
  /** Pool size for node-postgres. */
  poolSize?: number;
  /** application_name reported to the server. */
  applicationName?: string;
  /** How long node-postgres waits for a connection (default 10 s). */
  connectionTimeoutMs?: number;
}

export interface Database<TSchema extends Record<string, unknown> = Record<string, never>> {
  readonly db: Db<TSchema>;
  readonly driver: 'node-postgres' | 'pglite';
  /** Runs `select 1`; throws when the database does not answer. */
  ping(): Promise<void>;
  /**
   * Runs a hot statement as a named prepared statement: parsed and planned once per connection
   * (node-postgres), so that each call costs only its execution (a third of the server's CPU of an
   * unnamed statement for the personalized offers API's read); a plain parameterised query on
   * PGlite. `name` must always go with the same `text`; values are parameters, never text.
   */
  prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function openDatabase<TSchema extends Record<string, unknown> = Record<string, never>>(options: DatabaseOptions<TSchema>): Database<TSchema> {
  if (options.url) {
    const pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      application_name: options.applicationName,
      // No JIT compilation for the services' short statements: once a table grows past a few
      // tens of thousands of rows, a batch's look-up is estimated above jit_above_cost and each
      // execution spent 30-50 ms compiling (segmentation fell behind 1,000 events/s 40 s into a
      // run). Analytical statements that want it set it locally (the segment recompute).
      options: '-c jit=off',
      // While the server is down a query fails after this long instead of waiting for ever (and
      // the consumers back off, ADR 16); also bounds the wait for a free client under load.
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 10000,
    });
    // A client losing its connection must not crash the process (a PostgreSQL restart killed the
    // services, issue 15): idle clients report to the pool's listener, checked-out ones (a
    // transaction between statements) to their own; the query in flight, if any, rejects and the
    // pool replaces the client.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = drizzlePg(pool, { schema: options.schema }) as unknown as Db<TSchema>;
    let closed = false;
    return {
      db,
      driver: 'node-postgres',
      ping: async () => {
        await db.execute(sql`select 1`);
      },
      prepared: async <T>(name: string, text: string, values: unknown[]) => (await pool.query({ name, text, values })).rows as T[],
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end();
      },
    };
  }
  let template: Blob | undefined;
  if (options.pgliteDataDir && !options.pgliteDataDir.startsWith('memory://')) {
    mkdirSync(options.pgliteDataDir, { recursive: true });
    if (isEmptyPgliteDir(options.pgliteDataDir)) template = readPgliteTemplate();
  }
  const client = new PGlite(options.pgliteDataDir, template ? { loadDataDir: template } : undefined);
  const db = drizzlePglite(client, { schema: options.schema }) as unknown as Db<TSchema>;
  return {
    db,
    driver: 'pglite',
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    prepared: async <T>(_name: string, text: string, values: unknown[]) => (await client.query<T>(text, values)).rows,
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}
