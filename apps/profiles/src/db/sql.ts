import type { SQL } from 'drizzle-orm';
import type { Db } from '@segmenta/persistence';

/** Runs a raw statement and returns its rows (node-postgres and PGlite both answer `{ rows }`). */
export async function queryRows<T>(db: Pick<Db, 'execute'>, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

/**
 * Bulk statements pass their rows as one JSON parameter read with json_to_recordset: one bind
 * parameter whatever the row count (a statement holds at most 65,535) and one round trip, which is
 * ~10× faster than a multi-row insert built by the ORM (TOOLCHAIN.md).
 */
export const jsonParam = (rows: unknown) => JSON.stringify(rows);
