import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, jsonb, primaryKey, text, timestamp, type PgSchema } from 'drizzle-orm/pg-core';
import type { Envelope } from '@segmenta/contracts';
import { CallRounds, anyOf, jsonParam, queryRows, type Database, type Db, type RoundOutcome } from '@segmenta/persistence';
import type { JetStreamClient, StreamLocation } from './jetstream-client';

/**
 * The outbox and inbox tables of one service schema (ADR 12). Each app's `db/schema.ts` calls this
 * so that drizzle-kit writes them into the app's own migrations.
 */
export function outboxTables(schema: PgSchema) {
  const tz = (name: string) => timestamp(name, { withTimezone: true });
  return {
    /** Messages written in the transaction of the change that caused them; the relay publishes them in id order. */
    outbox: schema.table(
      'outbox',
      {
        id: bigserial('id', { mode: 'number' }).primaryKey(),
        subject: text('subject').notNull(),
        envelope: jsonb('envelope').notNull(),
        partitionKey: text('partition_key'),
        createdAt: tz('created_at').notNull().defaultNow(),
        publishedAt: tz('published_at'),
      },
      // The primary key is the only index: the relay deletes what it published, so every row is
      // unpublished (published_at is set only on rows relayed before ADR 18, which purge removes).
    ),
    /** Envelope ids a consumer applied, written in the transaction of the work. */
    inbox: schema.table(
      'inbox',
      {
        consumer: text('consumer').notNull(),
        envelopeId: text('envelope_id').notNull(),
        appliedAt: tz('applied_at').notNull().defaultNow(),
      },
      (table) => [primaryKey({ columns: [table.consumer, table.envelopeId] }), index('inbox_applied_at_idx').on(table.appliedAt)],
    ),
    /**
     * Where the relay's messages with a partition key (a customer) landed: the stream sequence, so
     * that erasing the customer can delete them from the stream (ADR 14). Kept as long as streams keep messages.
     */
    streamLocations: schema.table(
      'stream_locations',
      {
        stream: text('stream').notNull(),
        seq: bigint('seq', { mode: 'number' }).notNull(),
        partitionKey: text('partition_key').notNull(),
        at: tz('at').notNull().defaultNow(),
      },
      // No index on `at`: purge drops what the streams no longer hold, by sequence (the primary key).
      (table) => [primaryKey({ columns: [table.stream, table.seq] }), index('stream_locations_partition_key_idx').on(table.partitionKey)],
    ),
    /** Stream messages to delete (an erasure's), written in its transaction and deleted by the relay. */
    streamErasures: schema.table(
      'stream_erasures',
      {
        stream: text('stream').notNull(),
        seq: bigint('seq', { mode: 'number' }).notNull(),
        requestedAt: tz('requested_at').notNull().defaultNow(),
      },
      (table) => [primaryKey({ columns: [table.stream, table.seq] })],
    ),
  };
}

/** Anything that runs statements: the database or a transaction. */
export type SqlRunner = Pick<Db, 'execute'>;

export interface OutgoingMessage {
  /** Relative subject (without NATS_PREFIX). */
  subject: string;
  envelope: Envelope;
  partitionKey?: string | null;
}

export interface AppendOptions {
  /**
   * false: the answer may go out before PostgreSQL flushed the row to its WAL (synchronous_commit
   * off for that statement alone). A crash of this process still loses nothing; a crash of the
   * database server can lose what was appended in its last fraction of a second (wal_writer_delay,
   * 200 ms by default, at most three times that). For records such as exposures, whose loss is a
   * gap in statistics rather than a wrong balance. Default true.
   */
  flush?: boolean;
}

export interface OutboxOptions {
  /** The service's PostgreSQL schema, which holds its `outbox` table. */
  schema: string;
  /** Rows published per round (default 1000). */
  batchSize?: number;
  /** How often the relay looks for rows that no wake-up announced: other replicas', a crashed process's (default 1000 ms). */
  pollMs?: number;
  /** Rows marked published by a relay before ADR 18 (which deletes them instead) are purged after this (default 1 h). */
  retentionMs?: number;
  /** Inbox ids (every consumer's of the schema) are forgotten this long after they were applied (default 7 days). */
  inboxRetentionMs?: number;
  log?: (level: 'log' | 'warn' | 'error', message: string) => void;
}

function identifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a schema name: ${name}`);
  return name;
}

/** Written messages kept in memory for the relay at most; past it the relay reads them back from the table. */
const MAX_REMEMBERED = 100_000;

/** Rows the relay deletes between two vacuums of the outbox table. */
const VACUUM_EVERY = 5_000;

/** A 64-bit advisory lock key per schema: one relay publishes a schema's outbox at a time. */
const RELAY_LOCK_CLASS = 0x0b0c;

/**
 * The transactional outbox of one service (ADR 12). `write` adds messages in the caller's
 * transaction; after the commit `wake` (or the poll) lets the relay publish them: in id order,
 * with `Nats-Msg-Id` = envelope id, marking them published in the same transaction that holds the
 * relay lock. Only one relay of all replicas publishes at a time (a transaction-level advisory
 * lock), so the stream receives rows in id order, and a customer's rows, written under that
 * customer's locks, in commit order. A crash after publishing and before marking publishes those
 * rows again with the same ids: JetStream drops them inside its window, consumers' inboxes after.
 */
export class Outbox {
  private readonly table: string;
  private readonly locations: string;
  private readonly erasures: string;
  private readonly inbox: string;
  private readonly batchSize: number;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** Whether the next relay round looks for stream erasures. */
  private erasureDue = true;
  private lastFailureLog = -Infinity;
  private deletedSinceVacuum = 0;
  /** Messages this process wrote, by outbox id, until the relay publishes them. */
  private readonly written = new Map<number, OutgoingMessage>();
  /** `append`'s rounds: one INSERT for the callers waiting while the last one ran. */
  private readonly appends = new CallRounds<OutgoingMessage[], void>((calls) => this.writeAppends(calls, true), { maxPerRound: 500 });
  private readonly unflushedAppends = new CallRounds<OutgoingMessage[], void>((calls) => this.writeAppends(calls, false), { maxPerRound: 500 });
  /** Published rows since start (tests and logs). */
  published = 0;

  constructor(
    private readonly database: Database<Record<string, unknown>>,
    private readonly client: JetStreamClient,
    private readonly options: OutboxOptions,
  ) {
    this.table = `${identifier(options.schema)}.outbox`;
    this.locations = `${identifier(options.schema)}.stream_locations`;
    this.erasures = `${identifier(options.schema)}.stream_erasures`;
    this.inbox = `${identifier(options.schema)}.inbox`;
    this.batchSize = options.batchSize ?? 1000;
  }

  /** Adds messages to the outbox in the caller's transaction (one statement whatever their number). */
  write(tx: SqlRunner, messages: OutgoingMessage[]): Promise<void> {
    return this.insert(tx, messages, true);
  }

  /** `flush` false: in a statement of its own, which then commits without waiting for the WAL flush (synchronous_commit off for it alone). */
  private async insert(tx: SqlRunner, messages: OutgoingMessage[], flush: boolean): Promise<void> {
    if (messages.length === 0) return;
    const rows = messages.map((m) => ({ subject: m.subject, envelope: m.envelope, partition_key: m.partitionKey ?? null }));
    const inserted = await queryRows<{ id: string | number; envelope_id: string }>(
      tx,
      sql`insert into ${sql.raw(this.table)} (subject, envelope, partition_key)
        select subject, envelope, partition_key from rows from (json_to_recordset(${jsonParam(rows)}::json) as (subject text, envelope jsonb, partition_key text)) with ordinality as x(subject, envelope, partition_key, n)
        ${flush ? sql`` : sql`where set_config('synchronous_commit', 'off', true) is not null`}
        order by n
        returning id, envelope->>'id' as envelope_id`,
    );
    // The relay publishes these from memory once it finds their ids committed (a rolled-back
    // transaction's ids never show up, and are dropped when the relay passes them).
    if (this.written.size + inserted.length > MAX_REMEMBERED) this.written.clear();
    const byEnvelopeId = new Map(messages.map((m) => [m.envelope.id, m]));
    for (const row of inserted) {
      const message = byEnvelopeId.get(row.envelope_id);
      if (message) this.written.set(Number(row.id), message);
    }
  }

  /**
   * Stores messages that belong to no other change (an exposure, say) and resolves once they are
   * committed, then wakes the relay. Calls made while a write is under way share the next one: one
   * INSERT per round, whatever the number of callers (group commit), so a busy route pays one
   * statement per batch of answers instead of a transaction each.
   */
  append(messages: OutgoingMessage[], options: AppendOptions = {}): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return (options.flush === false ? this.unflushedAppends : this.appends).call(messages);
  }

  /** One round of `append`: one INSERT; if it fails, each caller's messages alone, so that one bad message fails only its caller. */
  private async writeAppends(calls: OutgoingMessage[][], flush: boolean): Promise<Array<RoundOutcome<void>>> {
    try {
      await this.insert(this.database.db, calls.flat(), flush);
      return calls.map(() => ({ value: undefined }));
    } catch (error) {
      if (calls.length === 1) return [{ error }];
      const outcomes: Array<RoundOutcome<void>> = [];
      for (const messages of calls)
        outcomes.push(
          await this.insert(this.database.db, messages, flush).then(
            () => ({ value: undefined }),
            (alone: unknown) => ({ error: alone }),
          ),
        );
      return outcomes;
    } finally {
      this.wake();
    }
  }

  /**
   * Erasure (ADR 14), in the caller's transaction: drops the outbox rows of these partition keys
   * (customers) and schedules their published messages, and any `locations` given, for deletion
   * from the streams; the relay deletes them after the commit (wake it). Call it before writing the
   * erasure's own announcement, which this would otherwise drop.
   */
  async eraseFromStreams(tx: SqlRunner, erase: { partitionKeys: string[]; locations?: StreamLocation[] }): Promise<void> {
    this.erasureDue = true;
    // The relay's lock, held to the commit: a relay round that already published this customer's
    // rows has recorded their locations before the statements below look (PGlite has one connection and no concurrent round).
    if (this.database.driver !== 'pglite') await tx.execute(sql`select pg_advisory_xact_lock(${RELAY_LOCK_CLASS}::int, hashtext(${this.table}))`);
    const keys = [...new Set(erase.partitionKeys)];
    if (keys.length > 0) {
      await tx.execute(sql`delete from ${sql.raw(this.table)} where partition_key = ${anyOf(keys, 'text')}`);
      await tx.execute(
        sql`with moved as (delete from ${sql.raw(this.locations)} where partition_key = ${anyOf(keys, 'text')} returning stream, seq)
          insert into ${sql.raw(this.erasures)} (stream, seq) select stream, seq from moved on conflict do nothing`,
      );
    }
    if (erase.locations?.length) {
      await tx.execute(
        sql`insert into ${sql.raw(this.erasures)} (stream, seq) select stream, seq from json_to_recordset(${jsonParam(erase.locations)}::json) as x(stream text, seq bigint) on conflict do nothing`,
      );
    }
  }

  /** Starts polling and purging. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const poll = () => {
      this.timer = setTimeout(() => {
        this.erasureDue = true;
        this.wake();
        if (!this.stopped) poll();
      }, this.options.pollMs ?? 1000);
      this.timer.unref();
    };
    poll();
    this.purgeTimer = setInterval(() => {
      this.purge().catch((error: Error) => this.log('warn', `outbox purge failed: ${error.message}`));
    }, 60_000);
    this.purgeTimer.unref();
    this.wake();
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.purgeTimer);
    this.again = false;
    await this.running;
  }

  /** Asks for a relay round now (after a commit); rounds never overlap, a wake during one adds another. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.relayAll();
        } catch (error) {
          // The poll retries every second; during a database outage one line every ten seconds says enough.
          if (performance.now() - this.lastFailureLog > 10_000) {
            this.lastFailureLog = performance.now();
            this.log('warn', `outbox relay of ${this.table} failed: ${(error as Error).message}; retrying`);
          }
          break;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once every row committed before the call has been published and every erasure done (tests, shutdown). */
  async flush(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [{ n, erasures }] = await queryRows<{ n: number; erasures: number }>(
        this.database.db,
        sql`select (select count(*)::int from ${sql.raw(this.table)} where published_at is null) as n, (select count(*)::int from ${sql.raw(this.erasures)}) as erasures`,
      );
      if (n === 0 && erasures === 0) return;
      if (Date.now() > deadline) throw new Error(`${n} outbox rows of ${this.table} still unpublished and ${erasures} stream messages not yet erased after ${timeoutMs} ms`);
      if (this.stopped) {
        await this.relayAll();
        await this.eraseOnce();
      } else this.wake();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Publishes rounds until the outbox is empty or another replica holds the relay lock. */
  async relayAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayOnce();
      // Erasures are rare: looked for when one was written here, and once a poll (another replica's, a crash's), not after every commit.
      if (n !== null && n < this.batchSize && this.erasureDue) {
        this.erasureDue = false;
        if ((await this.eraseOnce()) === this.batchSize) this.erasureDue = this.again = true;
      }
      if (n === null) {
        // Another replica is publishing; it may have read before our rows committed: look again soon.
        if (!this.stopped) setTimeout(() => this.wake(), 50).unref();
        break;
      }
      total += n;
      if (n < this.batchSize) break;
    }
    this.published += total;
    this.deletedSinceVacuum += total;
    await this.vacuumIfDue();
    return total;
  }

  /**
   * The relay deletes every row it publishes, thousands a second under load, and each round's
   * `order by id` scan walks the dead index entries until a vacuum removes them; autovacuum looks
   * once a minute. A vacuum of the small table every VACUUM_EVERY deleted rows keeps the scan short.
   */
  private async vacuumIfDue(): Promise<void> {
    if (this.deletedSinceVacuum < VACUUM_EVERY || this.database.driver === 'pglite') return;
    this.deletedSinceVacuum = 0;
    try {
      await this.database.db.execute(sql.raw(`vacuum ${this.table}`));
    } catch (error) {
      this.log('warn', `vacuum of ${this.table} failed: ${(error as Error).message}`);
    }
  }

  /**
   * One round: the oldest unpublished rows, published and then deleted, their stream locations
   * recorded; null when another relay holds the lock. Only ids are read back: the envelopes of rows
   * this process wrote come from memory, the others' (another replica's, a crashed process's) from
   * the table. An erasure takes the same lock (eraseFromStreams), so it never runs between the
   * publish and the recording of the locations it must find (ADR 14).
   */
  private async relayOnce(): Promise<number | null> {
    const round = async (tx: SqlRunner, locked: boolean): Promise<number | null> => {
      if (locked) {
        const [{ ok }] = await queryRows<{ ok: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${RELAY_LOCK_CLASS}::int, hashtext(${this.table})) as ok`);
        if (!ok) return null;
      }
      const ids = (await queryRows<{ id: string | number }>(tx, sql`select id from ${sql.raw(this.table)} where published_at is null order by id limit ${this.batchSize}`)).map((r) => Number(r.id));
      if (ids.length === 0) return 0;
      const unknown = ids.filter((id) => !this.written.has(id));
      const stored = new Map<number, OutgoingMessage>();
      if (unknown.length > 0) {
        const rows = await queryRows<{ id: string | number; subject: string; envelope: Envelope; partition_key: string | null }>(
          tx,
          sql`select id, subject, envelope, partition_key from ${sql.raw(this.table)} where id = ${anyOf(unknown, 'bigint')}`,
        );
        for (const r of rows) stored.set(Number(r.id), { subject: r.subject, envelope: r.envelope, partitionKey: r.partition_key });
      }
      const batch = ids.flatMap((id) => {
        const message = this.written.get(id) ?? stored.get(id);
        return message ? [message] : [];
      });
      const acks = await this.client.publishMany(batch.map((m) => ({ subject: m.subject, envelope: m.envelope, partitionKey: m.partitionKey ?? undefined })));
      const located = batch.flatMap((m, i) => (m.partitionKey ? [{ stream: acks[i].stream, seq: acks[i].seq, partition_key: m.partitionKey }] : []));
      // Deleted, not marked: a published row has nothing left to do, and a delete writes no index entries.
      await tx.execute(
        sql`with published as (delete from ${sql.raw(this.table)} where id = ${anyOf(ids, 'bigint')})
          insert into ${sql.raw(this.locations)} (stream, seq, partition_key) select stream, seq, partition_key from json_to_recordset(${jsonParam(located)}::json) as x(stream text, seq bigint, partition_key text)
          on conflict do nothing`,
      );
      for (const id of ids) this.written.delete(id);
      // Ids below the round's first were rolled back (or published by another replica): forget them.
      for (const id of this.written.keys()) {
        if (id >= ids[0]) break;
        this.written.delete(id);
      }
      return ids.length;
    };
    // PGlite is one process with one connection: no other relay, and a transaction held over a
    // publish would stall every other statement.
    if (this.database.driver === 'pglite') return round(this.database.db, false);
    return this.database.db.transaction((tx) => round(tx, true));
  }

  /** Deletes the stream messages erasures asked for; returns how many it handled (null: another relay holds the lock). */
  async eraseOnce(): Promise<number | null> {
    const round = async (tx: SqlRunner, locked: boolean): Promise<number | null> => {
      if (locked) {
        const [{ ok }] = await queryRows<{ ok: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${RELAY_LOCK_CLASS}::int, hashtext(${this.erasures})) as ok`);
        if (!ok) return null;
      }
      const rows = await queryRows<{ stream: string; seq: string | number }>(tx, sql`select stream, seq from ${sql.raw(this.erasures)} order by requested_at, stream, seq limit ${this.batchSize}`);
      if (rows.length === 0) return 0;
      for (const row of rows) await this.client.deleteStreamMessage(row.stream, Number(row.seq));
      await tx.execute(
        sql`delete from ${sql.raw(this.erasures)} x using json_to_recordset(${jsonParam(rows.map((r) => ({ stream: r.stream, seq: Number(r.seq) })))}::json) as d(stream text, seq bigint)
          where x.stream = d.stream and x.seq = d.seq`,
      );
      return rows.length;
    };
    if (this.database.driver === 'pglite') return round(this.database.db, false);
    return this.database.db.transaction((tx) => round(tx, true));
  }

  /** Deletes the locations of messages their stream no longer holds (aged out, removed), and rows a relay before ADR 18 marked published. */
  async purge(): Promise<number> {
    // The distinct streams through the primary key (a loose index scan), not a scan of every location.
    const streams = await queryRows<{ stream: string }>(
      this.database.db,
      sql`with recursive s as (select min(stream) as stream from ${sql.raw(this.locations)}
          union all select (select min(stream) from ${sql.raw(this.locations)} where stream > s.stream) from s where s.stream is not null)
        select stream from s where stream is not null`,
    );
    for (const { stream } of streams) {
      const first = (await this.client.firstSequence(stream)) ?? Number.MAX_SAFE_INTEGER;
      await this.database.db.execute(
        sql`delete from ${sql.raw(this.locations)} where (stream, seq) in (select stream, seq from ${sql.raw(this.locations)} where stream = ${stream} and seq < ${first} limit 50000)`,
      );
    }
    const retention = this.options.retentionMs ?? 3_600_000;
    const rows = await queryRows<{ n: number }>(
      this.database.db,
      sql`with d as (delete from ${sql.raw(this.table)} where id in (select id from ${sql.raw(this.table)} where published_at < now() - make_interval(secs => ${retention / 1000}) limit 50000) returning 1) select count(*)::int as n from d`,
    );
    await this.purgeInbox();
    return rows[0].n;
  }

  /**
   * Forgets the schema's inbox ids (every consumer's) applied longer ago than inboxRetentionMs: far
   * outside any redelivery, which JetStream makes only of unacknowledged messages. In batches along
   * the applied_at index, so that one round never holds a long transaction; returns how many went.
   */
  async purgeInbox(): Promise<number> {
    const seconds = (this.options.inboxRetentionMs ?? 7 * 86_400_000) / 1000;
    let purged = 0;
    for (let batch = 0; batch < 40; batch += 1) {
      const [{ n }] = await queryRows<{ n: number }>(
        this.database.db,
        sql`with d as (delete from ${sql.raw(this.inbox)} where (consumer, envelope_id) in (
            select consumer, envelope_id from ${sql.raw(this.inbox)} where applied_at < now() - make_interval(secs => ${seconds}) limit 50000) returning 1)
          select count(*)::int as n from d`,
      );
      purged += n;
      if (n < 50000) break;
    }
    return purged;
  }

  private log(level: 'log' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }
}

/**
 * A consumer's record of the envelopes it applied (ADR 12). `claim` runs in the transaction of the
 * work: it records the ids and returns those not applied before, so a redelivery after a crash, or
 * one beyond JetStream's dedupe window, changes nothing. A concurrent transaction claiming the same
 * id waits for the first to commit and then finds it taken.
 */
export class Inbox {
  private readonly table: string;

  constructor(
    schema: string,
    private readonly consumer: string,
  ) {
    this.table = `${identifier(schema)}.inbox`;
  }

  /** Records the ids; returns the ones this consumer had not applied yet. */
  async claim(tx: SqlRunner, envelopeIds: Iterable<string>): Promise<Set<string>> {
    // In a fixed order: two transactions claiming overlapping ids queue up instead of deadlocking.
    const ids = [...new Set(envelopeIds)];
    if (ids.length === 0) return new Set();
    const rows = await queryRows<{ envelope_id: string }>(
      tx,
      sql`insert into ${sql.raw(this.table)} (consumer, envelope_id) select ${this.consumer}, v from json_array_elements_text(${jsonParam(ids)}::json) v
        order by v on conflict do nothing returning envelope_id`,
    );
    return new Set(rows.map((r) => r.envelope_id));
  }
}
