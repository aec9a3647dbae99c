/**
 * A service process in miniature for the outbox crash test (outbox.spec.ts), run as a child:
 *   node -r tools/scripts/dev-register.js outbox-fixture.ts <write-then-die|relay> <databaseUrl> <natsUrl> <prefix> <schema> [count]
 * `write-then-die` commits `count` outbox rows, one transaction each, and SIGKILLs itself before
 * any relay runs: the crash between commit and publish. `relay` publishes what is there and exits.
 */
import { sql } from 'drizzle-orm';
import { openDatabase } from '@segmenta/persistence';
import { createEnvelope } from '../envelope';
import { JetStreamClient } from '../jetstream-client';
import { Outbox } from '../outbox';

async function main(): Promise<void> {
  const [mode, databaseUrl, natsUrl, prefix, schema, count = '0'] = process.argv.slice(2);
  const database = openDatabase({ url: databaseUrl });
  const client = await JetStreamClient.connect({ url: natsUrl, prefix, name: `outbox-fixture-${mode}` });
  const outbox = new Outbox(database, client, { schema, pollMs: 50 });
  if (mode === 'write-then-die') {
    for (let i = 0; i < Number(count); i += 1) {
      const customer = `c${i % 5}`;
      await database.db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await outbox.write(tx, [{ subject: 'profiles.updated', envelope: createEnvelope('profiles.updated', { customer, n: i }, { id: `crash-${i}` }), partitionKey: customer }]);
      });
    }
    process.kill(process.pid, 'SIGKILL');
    return;
  }
  outbox.start();
  await outbox.flush(20_000);
  await outbox.stop();
  await client.drain();
  await database.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
