import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './database';

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

/**
 * `column = ${anyOf(ids, 'uuid')}`: the column is one of the values, passed as one JSON parameter.
 * Written as `= any(array(…))` so that the planner looks the values up through the column's index
 * (and each partition's): `column in (select json_array_elements_text(…))` is planned for the 100
 * rows the planner assumes a set-returning function yields, which makes it a hash semi-join over a
 * sequential scan of the whole table once the table holds a few thousand rows (3.5 ms a call at
 * 25,000 profiles, growing with the table, against 0.1 ms through the index).
 */
export function anyOf(values: Iterable<string | number>, type: 'uuid' | 'text' | 'bigint'): SQL {
  const list = Array.isArray(values) ? values : [...values];
  return sql`any(array(select json_array_elements_text(${jsonParam(list)}::json)::${sql.raw(type)}))`;
}

/**
 * A statement compiled elsewhere as text with `$1…$n` placeholders and its values (the segment
 * rule compiler's output), as a Drizzle `SQL` that runs on either driver and inside transactions.
 * Placeholders are renumbered by Drizzle in order of appearance; the text is trusted, the values
 * are always sent as parameters.
 */
export function compiledSql(text: string, values: readonly unknown[]): SQL {
  const chunks: SQL[] = [];
  let last = 0;
  for (const match of text.matchAll(/\$(\d+)/g)) {
    const index = Number(match[1]) - 1;
    if (index < 0 || index >= values.length) throw new Error(`compiledSql: $${match[1]} has no value (${values.length} given)`);
    chunks.push(sql.raw(text.slice(last, match.index)), sql`${values[index]}`);
    last = (match.index as number) + match[0].length;
  }
  chunks.push(sql.raw(text.slice(last)));
  return sql.join(chunks);
}
