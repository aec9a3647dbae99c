import { existsSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { Database } from './database';

/** One advisory lock for every app's migrations: replicas and sibling apps starting together queue up. */
const MIGRATION_LOCK_KEY = 7_271_930_001;

/**
 * Applies the migrations drizzle-kit generated for one app. Each app keeps its own journal
 * (`drizzle.<schema>_migrations`), so apps sharing one database never see each other's history.
 */
export async function runMigrations(database: Database<Record<string, unknown>>, options: { migrationsFolder: string; schema: string }): Promise<void> {
  if (!existsSync(options.migrationsFolder)) {
    throw new Error(`Migrations folder not found: ${options.migrationsFolder}`);
  }
  const config = {
    migrationsFolder: options.migrationsFolder,
    migrationsSchema: 'drizzle',
    migrationsTable: `${options.schema}_migrations`,
  };
  if (database.driver === 'pglite') {
    await migratePglite(database.db as unknown as PgliteDatabase, config);
    return;
  }
  const db = database.db as unknown as NodePgDatabase & { $client: Pool };
  // Session-level lock held on one pooled connection while the migrator uses others.
  const pool = db.$client;
  const lockClient = await pool.connect();
  try {
    await lockClient.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await migratePg(db, config);
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    lockClient.release();
  }
}

/** Names of the tables in `schema`, for checks and diagnostics. */
export async function listTables(database: Database<Record<string, unknown>>, schema: string): Promise<string[]> {
  const result = await database.db.execute(sql`select table_name from information_schema.tables where table_schema = ${schema} order by table_name`);
  return (result as unknown as { rows: Array<{ table_name: string }> }).rows.map((row) => row.table_name);
}
