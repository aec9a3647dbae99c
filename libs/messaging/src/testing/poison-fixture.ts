/**
 * A consumer process in miniature for the poison-message test (dead-letter.spec.ts), run as a child:
 *   node -r tools/scripts/dev-register.js poison-fixture.ts <consume|replay> <databaseUrl> <natsUrl> <prefix>
 * It applies PROFILES messages to `applied` with the inbox, in one transaction per batch. In
 * `consume` mode a message whose data says `poison` kills the process (SIGKILL) each time it is
 * applied, as a handler that crashes the runtime would; `replay` is the fixed release: it replays
 * the consumer's dead letters, prints the outcome as JSON and exits.
 */
import { sql } from 'drizzle-orm';
import { openDatabase } from '@segmenta/persistence';
import { JetStreamClient, type BatchMessage } from '../jetstream-client';
import { Inbox } from '../outbox';

async function main(): Promise<void> {
  const [mode, databaseUrl, natsUrl, prefix] = process.argv.slice(2);
  const database = openDatabase({ url: databaseUrl });
  const client = await JetStreamClient.connect({ url: natsUrl, prefix, name: `poison-fixture-${mode}` });
  const inbox = new Inbox('poison', 'poison-consumer');
  const apply = async (messages: Array<BatchMessage<{ poison?: boolean }>>) => {
    await database.db.transaction(async (tx) => {
      const fresh = await inbox.claim(
        tx,
        messages.map((m) => m.envelope.id),
      );
      for (const { envelope } of messages) {
        if (!fresh.has(envelope.id)) continue;
        if (envelope.data.poison && mode === 'consume') process.kill(process.pid, 'SIGKILL');
        await tx.execute(sql`insert into poison.applied (envelope_id) values (${envelope.id})`);
      }
    });
  };
  const handle = await client.consumeBatch<{ poison?: boolean }>({ stream: 'PROFILES', durable: 'poison-consumer', maxDeliver: 3, ackWaitMs: 1000, backoffMs: [50], maxBatch: 50 }, apply);
  if (mode === 'replay') {
    const results = [];
    for (const letter of await client.listDeadLetters()) results.push(await client.replayDeadLetter(letter.seq));
    process.stdout.write(`${JSON.stringify(results)}\n`);
    await handle.stop();
    await client.drain();
    await database.close();
    return;
  }
  // consume: runs until the test stops it (SIGTERM) or the poison kills it.
  process.once('SIGTERM', () => {
    void (async () => {
      await client.drain();
      await database.close();
      process.exit(0);
    })();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
