import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { Client } from 'pg';
import { openDatabase, type Database } from './database';
import { listTables, runMigrations } from './migrations';
import { ensurePgliteTemplate, isEmptyPgliteDir, readPgliteTemplate } from './pglite-template';
import { availableTestDrivers, createTestDatabase, type TestDatabase } from './testing/test-database';
import { isTransientDatabaseError, withTransaction } from './transaction';

const fixture = (schema: string) => join(__dirname, 'testing', 'fixtures', schema);

async function rows<T>(database: Database, query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await database.db.execute(query)) as unknown as { rows: T[] }).rows;
}

describe.each(availableTestDrivers())('persistence on %s', (driver) => {
  let testDb: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase({ driver });
    database = openDatabase({ url: testDb.url });
  });

  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('answers a ping with the driver it was opened with', async () => {
    await expect(database.ping()).resolves.toBeUndefined();
    expect(database.driver).toBe(driver);
  });

  it('applies every migration of a folder into its schema, and applying again changes nothing', async () => {
    await runMigrations(database, { migrationsFolder: fixture('fixture_a'), schema: 'fixture_a' });
    expect(await listTables(database, 'fixture_a')).toEqual(['counters']);
    const columns = await rows<{ column_name: string }>(
      database,
      sql`select column_name from information_schema.columns where table_schema = 'fixture_a' and table_name = 'counters' order by ordinal_position`,
    );
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'value', 'note']);

    await runMigrations(database, { migrationsFolder: fixture('fixture_a'), schema: 'fixture_a' });
    const journal = await rows<{ n: number }>(database, sql`select count(*)::int as n from drizzle.fixture_a_migrations`);
    expect(journal[0].n).toBe(2);
  });

  it('keeps a separate journal per service, so two services share one database', async () => {
    await runMigrations(database, { migrationsFolder: fixture('fixture_b'), schema: 'fixture_b' });
    expect(await listTables(database, 'fixture_b')).toEqual(['counters']);
    const journals = await rows<{ table_name: string }>(database, sql`select table_name from information_schema.tables where table_schema = 'drizzle' order by table_name`);
    expect(journals.map((t) => t.table_name)).toEqual(['fixture_a_migrations', 'fixture_b_migrations']);
  });

  it('refuses a missing migrations folder, naming it', async () => {
    await expect(runMigrations(database, { migrationsFolder: '/nowhere/migrations', schema: 'x' })).rejects.toThrow('/nowhere/migrations');
  });

  it('commits a transaction that succeeds and rolls back every write of one that throws', async () => {
    await withTransaction(database.db, async (tx) => {
      await tx.execute(sql`insert into fixture_a.counters (id, value) values ('kept', 1)`);
    });
    await expect(
      withTransaction(database.db, async (tx) => {
        await tx.execute(sql`insert into fixture_a.counters (id, value) values ('lost-1', 1)`);
        await tx.execute(sql`insert into fixture_a.counters (id, value) values ('lost-2', 2)`);
        throw new Error('business rule violated');
      }),
    ).rejects.toThrow('business rule violated');
    const ids = await rows<{ id: string }>(database, sql`select id from fixture_a.counters order by id`);
    expect(ids.map((r) => r.id)).toEqual(['kept']);
  });
});

describe('persistence on a PostgreSQL server', () => {
  const serverUrl = process.env.DATABASE_URL;
  let testDb: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    if (!serverUrl) throw new Error('these tests need a PostgreSQL server (DATABASE_URL)');
    testDb = await createTestDatabase();
    database = openDatabase({ url: testDb.url, poolSize: 6 });
    await runMigrations(database, { migrationsFolder: fixture('fixture_a'), schema: 'fixture_a' });
  });

  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('gives each test file its own database and drops it afterwards', async () => {
    const other = await createTestDatabase();
    expect(other.url).not.toBe(testDb.url);
    const name = new URL(other.url as string).pathname.slice(1);
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      const exists = async () => (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
      expect(await exists()).toBe(true);
      await other.drop();
      expect(await exists()).toBe(false);
    } finally {
      await admin.end();
    }
  });

  it('applies migrations once when two instances start at the same time', async () => {
    const fresh = await createTestDatabase();
    const first = openDatabase({ url: fresh.url });
    const second = openDatabase({ url: fresh.url });
    try {
      await Promise.all([
        runMigrations(first, { migrationsFolder: fixture('fixture_b'), schema: 'fixture_b' }),
        runMigrations(second, { migrationsFolder: fixture('fixture_b'), schema: 'fixture_b' }),
      ]);
      const journal = await rows<{ n: number }>(first, sql`select count(*)::int as n from drizzle.fixture_b_migrations`);
      expect(journal[0].n).toBe(2);
    } finally {
      await first.close();
      await second.close();
      await fresh.drop();
    }
  });

  it('runs a serializable transaction again when PostgreSQL aborts it for a conflict, ending as if serial', async () => {
    await database.db.execute(sql`insert into fixture_a.counters (id, value) values ('a', 0), ('b', 0)`);
    let runs = 0;
    // Each reads both rows and writes one: concurrent, they form a write-skew that serializable aborts.
    const work = (id: 'a' | 'b') =>
      withTransaction(
        database.db,
        async (tx) => {
          runs += 1;
          const sum = ((await tx.execute(sql`select sum(value)::int as total from fixture_a.counters where id in ('a', 'b')`)) as unknown as { rows: Array<{ total: number }> }).rows[0].total;
          await new Promise((resolve) => setTimeout(resolve, 50));
          await tx.execute(sql`update fixture_a.counters set value = ${sum + 1} where id = ${id}`);
        },
        { isolationLevel: 'serializable', attempts: 5 },
      );
    await Promise.all([work('a'), work('b')]);
    const values = await rows<{ id: string; value: number }>(database, sql`select id, value from fixture_a.counters where id in ('a','b') order by id`);
    // Serially: the first sets its row to 1, the second sees 1 and sets its row to 2.
    expect(values.map((v) => v.value).sort()).toEqual([1, 2]);
    expect(runs).toBeGreaterThan(2);
  });

  it('survives the server ending a connection that a transaction holds between statements (an uncaught pool error killed the services): the transaction fails as transient and the next query reconnects', async () => {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      const outcome = withTransaction(database.db, async (tx) => {
        const pid = ((await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as { rows: Array<{ pid: number }> }).rows[0].pid;
        // What a PostgreSQL restart does to every session: "terminating connection due to administrator command".
        await admin.query('select pg_terminate_backend($1)', [pid]);
        // The client is checked out and idle while the server's error arrives.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await tx.execute(sql`select 1`);
      });
      const error = await outcome.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      expect(isTransientDatabaseError(error)).toBe(true);
      await expect(database.ping()).resolves.toBeUndefined();
    } finally {
      await admin.end();
    }
  });

  it('tells outages (connection refused, server shutting down, terminated) from errors in the statement', () => {
    const wrapped = (cause: unknown) => Object.assign(new Error('Failed query: select 1'), { cause });
    expect(isTransientDatabaseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientDatabaseError(wrapped(new Error('Connection terminated unexpectedly')))).toBe(true);
    expect(isTransientDatabaseError(wrapped(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })))).toBe(true);
    expect(isTransientDatabaseError(wrapped(Object.assign(new Error('the database system is shutting down'), { code: '57P03' })))).toBe(true);
    expect(isTransientDatabaseError(wrapped(Object.assign(new Error('connection failure'), { code: '08006' })))).toBe(true);
    expect(isTransientDatabaseError(wrapped(Object.assign(new Error('duplicate key value'), { code: '23505' })))).toBe(false);
    expect(isTransientDatabaseError(wrapped(Object.assign(new Error('syntax error'), { code: '42601' })))).toBe(false);
    expect(isTransientDatabaseError(new Error('business rule violated'))).toBe(false);
  });

  it('gives up after the configured attempts with the database error', async () => {
    let runs = 0;
    await expect(
      withTransaction(
        database.db,
        async () => {
          runs += 1;
          throw Object.assign(new Error('could not serialize access'), { code: '40001' });
        },
        { attempts: 3 },
      ),
    ).rejects.toThrow('could not serialize access');
    expect(runs).toBe(3);
  });
});

describe('an embedded PGlite data directory', () => {
  const base = mkdtempSync(join(tmpdir(), 'segmenta-pglite-spec-'));
  const previousTemplateDir = process.env.SEGMENTA_PGLITE_TEMPLATE_DIR;

  beforeAll(() => {
    // A template of this test's own, so the machine's one is neither used nor replaced.
    process.env.SEGMENTA_PGLITE_TEMPLATE_DIR = base;
  });

  afterAll(() => {
    if (previousTemplateDir === undefined) delete process.env.SEGMENTA_PGLITE_TEMPLATE_DIR;
    else process.env.SEGMENTA_PGLITE_TEMPLATE_DIR = previousTemplateDir;
    rmSync(base, { recursive: true, force: true });
  });

  it('starts an empty directory from the machine template, migrates it and keeps its data when reopened', async () => {
    expect(readPgliteTemplate()).toBeUndefined();
    const template = await ensurePgliteTemplate();
    expect(template.startsWith(base)).toBe(true);
    expect(statSync(template).size).toBeGreaterThan(1_000_000);
    // Made once: a second call keeps the same file.
    const madeAt = statSync(template).mtimeMs;
    await ensurePgliteTemplate();
    expect(statSync(template).mtimeMs).toBe(madeAt);

    const dataDir = join(base, 'service');
    expect(isEmptyPgliteDir(dataDir)).toBe(true);
    const first = openDatabase({ pgliteDataDir: dataDir });
    await runMigrations(first, { migrationsFolder: fixture('fixture_a'), schema: 'fixture_a' });
    await first.db.execute(sql`insert into fixture_a.counters (id, value) values ('kept', 7)`);
    await first.close();
    expect(isEmptyPgliteDir(dataDir)).toBe(false);

    const reopened = openDatabase({ pgliteDataDir: dataDir });
    expect(await rows<{ id: string; value: number }>(reopened, sql`select id, value from fixture_a.counters`)).toEqual([{ id: 'kept', value: 7 }]);
    await reopened.close();
  });
});
