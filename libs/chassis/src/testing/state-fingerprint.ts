import { connect } from 'nats';
import { Client } from 'pg';

/** Tables that change after a successful request on their own (the relay publishes, consumers record): counted, not hashed. */
const COUNTED_ONLY = /^(outbox|inbox|__drizzle_migrations)$/;

/**
 * A cheap fingerprint of everything a service stores: every table of its test database (row count
 * and a hash of the rows) and the message count of every stream of its NATS namespace (key-value
 * buckets included). Two equal fingerprints around a refused request show it changed nothing.
 */
export async function stateFingerprint(options: { databaseUrl: string | undefined; natsUrl: string; prefix: string }): Promise<{ read(relist?: boolean): Promise<string>; close(): Promise<void> }> {
  const db = options.databaseUrl ? new Client({ connectionString: options.databaseUrl }) : undefined;
  await db?.connect();
  const nc = await connect({ servers: options.natsUrl });
  const jsm = await nc.jetstreamManager();
  // Tables and streams are listed again only when asked (after a success: a partition or stream may be new).
  let statement: string | undefined;
  let streams: string[] | undefined;

  async function tablesStatement(client: Client): Promise<string> {
    const tables = await client.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema', 'drizzle') order by 1, 2`,
    );
    const parts = tables.rows.map(({ schema, name }) => {
      const table = `"${schema}"."${name}"`;
      const hash = COUNTED_ONLY.test(name) ? `''` : `md5(coalesce(string_agg(t::text, '|' order by t::text), ''))`;
      return `select '${schema}.${name}' as name, count(*)::int as rows, ${hash} as hash from ${table} t`;
    });
    return parts.length > 0 ? parts.join(' union all ') : `select '' as name, 0 as rows, '' as hash`;
  }

  return {
    read: async (relist = false) => {
      const state: Record<string, unknown> = {};
      if (db) {
        if (relist || statement === undefined) statement = await tablesStatement(db);
        for (const row of (await db.query<{ name: string; rows: number; hash: string }>(statement)).rows) state[row.name] = `${row.rows}:${row.hash}`;
      }
      if (relist || streams === undefined) {
        streams = [];
        for await (const stream of jsm.streams.list()) {
          const name = stream.config.name;
          if (name.startsWith(`${options.prefix}_`) || name.startsWith(`KV_${options.prefix}_`)) streams.push(name);
        }
      }
      const infos = await Promise.all(streams.map((name) => jsm.streams.info(name)));
      for (const info of infos) state[`stream ${info.config.name}`] = info.state.messages;
      return JSON.stringify(state, Object.keys(state).sort());
    },
    close: async () => {
      await db?.end();
      await nc.close();
    },
  };
}
