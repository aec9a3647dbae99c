import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { WORKSPACE_ROOT } from '@segmenta/infra';
import { createTestDatabase, openDatabase, queryRows, type Database, type TestDatabase } from '@segmenta/persistence';
import { createEnvelope } from './envelope';
import { JetStreamClient } from './jetstream-client';
import { Inbox, Outbox } from './outbox';
import { createTestNamespace } from './testing/test-prefix';

const natsUrl = process.env.NATS_URL as string;
const codec = JSONCodec<{ id: string; data: { customer: string; n: number } }>();
const SCHEMA = 'obx';

/** The tables outboxTables() declares, as the services' migrations create them. */
const DDL = `create schema ${SCHEMA};
  create table ${SCHEMA}.outbox (id bigserial primary key, subject text not null, envelope jsonb not null, partition_key text, created_at timestamptz not null default now(), published_at timestamptz);
  create table ${SCHEMA}.inbox (consumer text not null, envelope_id text not null, applied_at timestamptz not null default now(), primary key (consumer, envelope_id));
  create table ${SCHEMA}.stream_locations (stream text not null, seq bigint not null, partition_key text not null, at timestamptz not null default now(), primary key (stream, seq));
  create table ${SCHEMA}.stream_erasures (stream text not null, seq bigint not null, requested_at timestamptz not null default now(), primary key (stream, seq));`;

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every message of the PROFILES stream in stream order. */
async function streamMessages(nc: NatsConnection, prefix: string): Promise<Array<{ id: string; customer: string; n: number }>> {
  const jsm = await nc.jetstreamManager();
  const stream = `${prefix}_PROFILES`;
  const { state } = await jsm.streams.info(stream);
  const out: Array<{ id: string; customer: string; n: number }> = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq += 1) {
    const message = await jsm.streams.getMessage(stream, { seq });
    const envelope = codec.decode(message.data);
    out.push({ id: envelope.id, customer: envelope.data.customer, n: envelope.data.n });
  }
  return out;
}

function runFixture(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', join(WORKSPACE_ROOT, 'tools/scripts/dev-register.js'), join(__dirname, 'testing/outbox-fixture.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

const serverUrl = process.env.DATABASE_URL;
const describeWithServer = serverUrl ? describe : describe.skip;

describeWithServer('transactional outbox (PostgreSQL + JetStream)', () => {
  let testDb: TestDatabase;
  let database: Database<Record<string, unknown>>;
  let nc: NatsConnection;

  beforeAll(async () => {
    testDb = await createTestDatabase({ driver: 'node-postgres' });
    database = openDatabase({ url: testDb.url });
    await database.db.execute(sql.raw(DDL));
    nc = await connect({ servers: natsUrl });
  });

  afterAll(async () => {
    await nc?.close();
    await database?.close();
    await testDb?.drop();
  });

  /** A fresh stream namespace and empty outbox per test. */
  async function freshNamespace() {
    await database.db.execute(sql.raw(`truncate ${SCHEMA}.outbox, ${SCHEMA}.inbox, ${SCHEMA}.stream_locations, ${SCHEMA}.stream_erasures`));
    const namespace = createTestNamespace(natsUrl, 'obx');
    const client = await JetStreamClient.connect({ url: natsUrl, prefix: namespace.prefix, name: 'outbox-spec' });
    await client.provisionStreams(['PROFILES']);
    return { namespace, client };
  }

  it('publishes what a committed transaction wrote, in id order with Nats-Msg-Id = envelope id, and nothing of a rolled-back one', async () => {
    const { namespace, client } = await freshNamespace();
    const outbox = new Outbox(database, client, { schema: SCHEMA, pollMs: 50 });
    try {
      await database.db.transaction(async (tx) => {
        await outbox.write(
          tx,
          [0, 1, 2].map((n) => ({ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { customer: 'a', n }, { id: `kept-${n}` }), partitionKey: 'a' })),
        );
      });
      await expect(
        database.db.transaction(async (tx) => {
          await outbox.write(tx, [{ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { customer: 'a', n: 9 }, { id: 'rolled-back' }) }]);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      outbox.start();
      await outbox.flush();
      expect((await streamMessages(nc, namespace.prefix)).map((m) => m.id)).toEqual(['kept-0', 'kept-1', 'kept-2']);
      const jsm = await nc.jetstreamManager();
      const first = await jsm.streams.getMessage(`${namespace.prefix}_PROFILES`, { seq: 1 });
      expect(first.header.get('Nats-Msg-Id')).toBe('kept-0');
      // Published rows are deleted (nothing left to purge); their stream locations stay for erasure.
      const [{ left }] = await queryRows<{ left: number }>(database.db, sql.raw(`select count(*)::int as left from ${SCHEMA}.outbox`));
      expect(left).toBe(0);
    } finally {
      await outbox.stop();
      await client.drain();
      await namespace.cleanup();
    }
  });

  it('append group-commits concurrent callers: each resolves once its message is stored, many share one INSERT, and a bad message fails only its caller', async () => {
    const { namespace, client } = await freshNamespace();
    const outbox = new Outbox(database, client, { schema: SCHEMA, pollMs: 50 });
    const message = (n: number) => ({ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { customer: `c${n % 7}`, n }, { id: `appended-${n}` }), partitionKey: `c${n % 7}` });
    const stored = async (id: string) => (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.raw(SCHEMA)}.outbox where envelope->>'id' = ${id}`))[0].n;
    try {
      // Each caller checks, as soon as it resolves, that its row is committed (before the relay starts).
      const seen = await Promise.all(Array.from({ length: 300 }, (_, n) => outbox.append([message(n)]).then(() => stored(`appended-${n}`))));
      expect(seen).toEqual(Array(300).fill(1));
      // Rows of one INSERT share its transaction's now(): the rounds are the distinct created_at values.
      const [{ rounds, rows }] = await queryRows<{ rounds: number; rows: number }>(
        database.db,
        sql.raw(`select count(distinct created_at)::int as rounds, count(*)::int as rows from ${SCHEMA}.outbox`),
      );
      expect(rows).toBe(300);
      expect(rounds).toBeLessThanOrEqual(3);

      const bad = { subject: null as unknown as string, envelope: createEnvelope('profiles.updated', { customer: 'x', n: -1 }, { id: 'bad' }) };
      const results = await Promise.allSettled([outbox.append([message(300)]), outbox.append([message(301)]), outbox.append([bad]), outbox.append([message(302)])]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      outbox.start();
      await outbox.flush();
      const published = (await streamMessages(nc, namespace.prefix)).map((m) => m.n);
      expect(published).toEqual(Array.from({ length: 303 }, (_, n) => n));
    } finally {
      await outbox.stop();
      await client.drain();
      await namespace.cleanup();
    }
  });

  it('append with flush false commits without waiting for the WAL flush for its own statement only: the connection keeps synchronous_commit on', async () => {
    const { namespace, client } = await freshNamespace();
    // One connection, so the statements below run where the append ran.
    const single = openDatabase({ url: testDb.url, poolSize: 1 });
    const outbox = new Outbox(single, client, { schema: SCHEMA, pollMs: 50 });
    const setting = async () => (await queryRows<{ synchronous_commit: string }>(single.db, sql`show synchronous_commit`))[0].synchronous_commit;
    try {
      await outbox.append([{ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { customer: 'q', n: 0 }, { id: 'unflushed-0' }), partitionKey: 'q' }], { flush: false });
      expect(await setting()).toBe('on');
      await outbox.append([{ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { customer: 'q', n: 1 }, { id: 'flushed-1' }), partitionKey: 'q' }]);
      const [{ n }] = await queryRows<{ n: number }>(single.db, sql.raw(`select count(*)::int as n from ${SCHEMA}.outbox`));
      expect(n).toBe(2);
      outbox.start();
      await outbox.flush();
      expect((await streamMessages(nc, namespace.prefix)).map((m) => m.id)).toEqual(['unflushed-0', 'flushed-1']);
    } finally {
      await outbox.stop();
      await single.close();
      await client.drain();
      await namespace.cleanup();
    }
  });

  it("forgets every consumer's inbox ids applied longer ago than the inbox retention, and keeps the newer ones", async () => {
    const { namespace, client } = await freshNamespace();
    const outbox = new Outbox(database, client, { schema: SCHEMA, inboxRetentionMs: 86_400_000 });
    try {
      await database.db.execute(
        sql.raw(`insert into ${SCHEMA}.inbox (consumer, envelope_id, applied_at) values
          ('profiles-events', 'old-1', now() - interval '2 days'), ('segments', 'old-2', now() - interval '25 hours'),
          ('profiles-events', 'new-1', now() - interval '23 hours'), ('segments', 'new-2', now())`),
      );
      expect(await outbox.purgeInbox()).toBe(2);
      const left = await queryRows<{ envelope_id: string }>(database.db, sql.raw(`select envelope_id from ${SCHEMA}.inbox order by envelope_id`));
      expect(left.map((r) => r.envelope_id)).toEqual(['new-1', 'new-2']);
    } finally {
      await client.drain();
      await namespace.cleanup();
    }
  });

  it('erases a customer from the stream: what the relay published for them and the locations given go, other customers stay', async () => {
    const { namespace, client } = await freshNamespace();
    const outbox = new Outbox(database, client, { schema: SCHEMA, pollMs: 50 });
    const stream = `${namespace.prefix}_PROFILES`;
    const jsm = await nc.jetstreamManager();
    /** Envelope ids still in the stream, by the server's next-message look-up (erased sequences leave holes). */
    const remaining = async () => {
      const ids: string[] = [];
      for (let seq = 1; ;) {
        const stored = await jsm.streams.getMessage(stream, { next_by_subj: '>', seq } as unknown as { seq: number }).catch(() => undefined);
        if (!stored) return ids;
        ids.push(codec.decode(stored.data).id);
        seq = stored.seq + 1;
      }
    };
    try {
      outbox.start();
      await database.db.transaction(async (tx) => {
        await outbox.write(
          tx,
          ['erased', 'kept', 'erased'].map((customer, n) => ({
            subject: 'profiles.updated',
            envelope: createEnvelope('profiles.updated', { customer, n }, { id: `${customer}-${n}` }),
            partitionKey: customer,
          })),
        );
      });
      await outbox.flush();
      // A message published by someone else (ingestion, say) that the erasure knows by its sequence.
      const foreign = await client.publish('profiles.updated', createEnvelope('profiles.updated', { customer: 'erased', n: 3 }, { id: 'foreign-3' }));
      expect(await remaining()).toEqual(['erased-0', 'kept-1', 'erased-2', 'foreign-3']);

      await database.db.transaction(async (tx) => {
        await outbox.eraseFromStreams(tx, { partitionKeys: ['erased'], locations: [{ stream, seq: foreign.seq }] });
        // The erasure's own announcement, written after, is published.
        await outbox.write(tx, [{ subject: 'profiles.erased', envelope: createEnvelope('profiles.erased', { customer: 'erased', n: 4 }, { id: 'erased-announcement' }), partitionKey: 'erased' }]);
      });
      outbox.wake();
      await outbox.flush();
      expect(await remaining()).toEqual(['kept-1', 'erased-announcement']);
      const [left] = await queryRows<{ rows: number; erasures: number }>(
        database.db,
        sql.raw(`select (select count(*)::int from ${SCHEMA}.outbox where envelope::text like '%"erased-%' and envelope ->> 'id' <> 'erased-announcement') as rows,
          (select count(*)::int from ${SCHEMA}.stream_erasures) as erasures`),
      );
      expect(left).toEqual({ rows: 0, erasures: 0 });
    } finally {
      await outbox.stop();
      await client.drain();
      await namespace.cleanup();
    }
  });

  it('purges the locations of messages their stream no longer holds, and keeps the others', async () => {
    const { namespace, client } = await freshNamespace();
    const outbox = new Outbox(database, client, { schema: SCHEMA, pollMs: 50 });
    const stream = `${namespace.prefix}_PROFILES`;
    try {
      outbox.start();
      await database.db.transaction(async (tx) => {
        await outbox.write(
          tx,
          [0, 1, 2, 3].map((n) => ({ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { customer: 'c', n }, { id: `purge-${n}` }), partitionKey: 'c' })),
        );
      });
      await outbox.flush();
      const seqs = async () => (await queryRows<{ seq: string }>(database.db, sql.raw(`select seq from ${SCHEMA}.stream_locations where stream = '${stream}' order by seq`))).map((r) => Number(r.seq));
      expect(await seqs()).toEqual([1, 2, 3, 4]);
      // As max_age would: the stream drops its two oldest messages.
      await (await nc.jetstreamManager()).streams.purge(stream, { seq: 3 });
      await outbox.purge();
      expect(await seqs()).toEqual([3, 4]);
    } finally {
      await outbox.stop();
      await client.drain();
      await namespace.cleanup();
    }
  });

  it('publishes each event exactly once after a process is SIGKILLed between commit and publish and a new one starts', async () => {
    const { namespace, client } = await freshNamespace();
    await client.drain();
    try {
      const crashed = await runFixture(['write-then-die', testDb.url as string, natsUrl, namespace.prefix, SCHEMA, '60']);
      expect(crashed.signal).toBe('SIGKILL');
      expect(await streamMessages(nc, namespace.prefix)).toHaveLength(0);
      const restarted = await runFixture(['relay', testDb.url as string, natsUrl, namespace.prefix, SCHEMA]);
      expect(restarted.output).toBe('');
      expect(restarted.code).toBe(0);
      // A second start finds nothing left to publish.
      expect((await runFixture(['relay', testDb.url as string, natsUrl, namespace.prefix, SCHEMA])).code).toBe(0);
      const published = await streamMessages(nc, namespace.prefix);
      expect(published.map((m) => m.id)).toEqual(Array.from({ length: 60 }, (_, i) => `crash-${i}`));
    } finally {
      await namespace.cleanup();
    }
  });

  it('two replicas writing and relaying at once publish every event once, and each customer’s in the order written', async () => {
    const { namespace, client } = await freshNamespace();
    const replicas = [0, 1].map(() => {
      const db = openDatabase({ url: testDb.url, poolSize: 4 });
      return { db, outbox: new Outbox(db, client, { schema: SCHEMA, pollMs: 20, batchSize: 7 }) };
    });
    try {
      replicas.forEach((r) => r.outbox.start());
      const customers = ['a', 'b', 'c', 'd'];
      const perCustomer = 40;
      // Each replica writes every customer's events, serialised per customer by a lock as the
      // services' transactions are (identifiers, profiles); n numbers them in commit order.
      const counters = new Map(customers.map((c) => [c, 0]));
      const writer = async (replica: (typeof replicas)[number], customer: string) => {
        for (let i = 0; i < perCustomer / 2; i += 1) {
          await replica.db.db.transaction(async (tx) => {
            await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${customer}))`);
            const n = counters.get(customer) as number;
            counters.set(customer, n + 1);
            await replica.outbox.write(tx, [{ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { customer, n }, { id: `${customer}-${n}` }), partitionKey: customer }]);
          });
          replica.outbox.wake();
        }
      };
      await Promise.all(replicas.flatMap((replica) => customers.map((customer) => writer(replica, customer))));
      await eventually(async () => (await streamMessages(nc, namespace.prefix)).length >= customers.length * perCustomer, 'every event published');
      await Promise.all(replicas.map((r) => r.outbox.flush()));
      const published = await streamMessages(nc, namespace.prefix);
      expect(published).toHaveLength(customers.length * perCustomer);
      expect(new Set(published.map((m) => m.id)).size).toBe(published.length);
      for (const customer of customers) {
        expect(published.filter((m) => m.customer === customer).map((m) => m.n)).toEqual(Array.from({ length: perCustomer }, (_, n) => n));
      }
      expect(replicas[0].outbox.published + replicas[1].outbox.published).toBe(published.length);
    } finally {
      for (const r of replicas) {
        await r.outbox.stop();
        await r.db.close();
      }
      await client.drain();
      await namespace.cleanup();
    }
  });

  it('the inbox returns only the envelope ids a consumer had not applied, and a concurrent claim of the same id waits and finds it taken', async () => {
    await database.db.execute(sql.raw(`truncate ${SCHEMA}.inbox`));
    const inbox = new Inbox(SCHEMA, 'spec-consumer');
    const first = await database.db.transaction((tx) => inbox.claim(tx, ['e1', 'e2', 'e2']));
    expect([...first].sort()).toEqual(['e1', 'e2']);
    expect([...(await database.db.transaction((tx) => inbox.claim(tx, ['e2', 'e3'])))]).toEqual(['e3']);
    // Another consumer keeps its own record.
    expect([...(await database.db.transaction((tx) => new Inbox(SCHEMA, 'other').claim(tx, ['e1'])))]).toEqual(['e1']);
    // A rolled-back claim leaves the id to the next delivery.
    await expect(
      database.db.transaction(async (tx) => {
        await inbox.claim(tx, ['e4']);
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    const concurrent = await Promise.all([0, 1].map(() => database.db.transaction(async (tx) => [...(await inbox.claim(tx, ['e4', 'e5']))])));
    expect(concurrent.flat().sort()).toEqual(['e4', 'e5']);
  });
});
