import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { WORKSPACE_ROOT } from '@segmenta/infra';
import { createTestDatabase, openDatabase, queryRows, type Database, type TestDatabase } from '@segmenta/persistence';
import { createEnvelope } from './envelope';
import { JetStreamClient } from './jetstream-client';
import { createTestNamespace } from './testing/test-prefix';

const natsUrl = process.env.NATS_URL as string;
const describeWithServer = process.env.DATABASE_URL ? describe : describe.skip;

function startFixture(args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> } {
  const child = spawn(process.execPath, ['-r', join(WORKSPACE_ROOT, 'tools/scripts/dev-register.js'), join(__dirname, 'testing/poison-fixture.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output })));
  return { child, exited };
}

describeWithServer('a poison message that kills its consumer process (real NATS + PostgreSQL)', () => {
  let testDb: TestDatabase;
  let database: Database<Record<string, unknown>>;
  const namespace = createTestNamespace(natsUrl, 'poison');
  let client: JetStreamClient;

  beforeAll(async () => {
    testDb = await createTestDatabase({ driver: 'node-postgres' });
    database = openDatabase({ url: testDb.url });
    await database.db.execute(
      sql.raw(`create schema poison;
        create table poison.inbox (consumer text not null, envelope_id text not null, applied_at timestamptz not null default now(), primary key (consumer, envelope_id));
        create table poison.applied (envelope_id text not null)`),
    );
    client = await JetStreamClient.connect({ url: natsUrl, prefix: namespace.prefix, name: 'poison-spec' });
    await client.provisionStreams(['PROFILES', 'DLQ']);
  });

  afterAll(async () => {
    await client?.drain();
    await namespace.cleanup();
    await database?.close();
    await testDb?.drop();
  });

  const applied = async () => (await queryRows<{ envelope_id: string }>(database.db, sql`select envelope_id from poison.applied order by envelope_id`)).map((r) => r.envelope_id);

  it('ends in the DLQ after maxDeliver crashed attempts while the messages behind it are applied, and a replay after the fix applies it once', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `p-${String(i).padStart(2, '0')}`);
    await client.publishMany(ids.map((id) => ({ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { poison: id === 'p-10' }, { id }) })));
    const args = [testDb.url as string, natsUrl, namespace.prefix];
    let crashes = 0;
    // Restarted after every crash, as a supervisor would; bounded.
    for (let start = 0; start < 9; start += 1) {
      const { child, exited } = startFixture(['consume', ...args]);
      const done = (async () => {
        for (;;) {
          if ((await applied()).length === 29 && (await client.listDeadLetters({ consumers: ['poison-consumer'] })).length === 1) return true;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const outcome = await Promise.race([exited.then((e) => ({ exited: e })), done.then(() => ({ exited: undefined }))]);
      if (outcome.exited) {
        expect(outcome.exited.signal).toBe('SIGKILL');
        crashes += 1;
        continue;
      }
      child.kill('SIGTERM');
      await exited;
      break;
    }
    // maxDeliver attempts alone, plus the first redelivery tried as a batch once more (ADR 16),
    // unless the server handed it to the dead process's pull (a delivery that never ran).
    expect(crashes).toBeGreaterThanOrEqual(3);
    expect(crashes).toBeLessThanOrEqual(4);
    expect(await applied()).toEqual(ids.filter((id) => id !== 'p-10'));
    const [letter] = await client.listDeadLetters({ consumers: ['poison-consumer'] });
    expect(letter).toMatchObject({ consumer: 'poison-consumer', stream: 'PROFILES', envelopeId: 'p-10' });
    expect(letter.error).toMatch(/stopped during each of 3 attempts/);

    const replay = startFixture(['replay', ...args]);
    const replayed = await replay.exited;
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.output.trim().split('\n').pop() as string)).toEqual([{ seq: letter.seq, replayed: true }]);
    expect(await applied()).toEqual(ids);
    // Nothing left to replay, nothing applied twice.
    const again = await startFixture(['replay', ...args]).exited;
    expect(JSON.parse(again.output.trim().split('\n').pop() as string)).toEqual([]);
    expect(await applied()).toEqual(ids);
  }, 180_000);
});
