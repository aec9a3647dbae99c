import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { Client } from 'pg';
import { startPrivateNats, startPrivatePostgres, startServiceProcess, waitFor, type PrivatePostgres, type ServiceProcess } from '@segmenta/infra';
import { fmt, median, print } from './report';

/**
 * Recovery after faults (issue 15), on a private nats-server and a private PostgreSQL cluster that
 * it breaks itself, with ingestion, profiles and segmentation from dist/ under a paced load of
 * batches of 100 track calls:
 * - PostgreSQL restarted (`pg_ctl stop -m fast`, down `downSeconds`): from the moment it accepts
 *   connections again until every service is ready, and until every event acknowledged before
 *   the stop is stored by profiles;
 * - profiles SIGKILLed (while it holds unacknowledged messages) and started again: until the new process is ready, and until every event
 *   acknowledged before the kill is stored (what the dead process held waits for the ack wait);
 * - profiles SIGKILLed with a second replica running: until that replica has stored every event
 *   acknowledged before the kill (the ack wait alone, without a start-up).
 */
export interface FaultBenchOptions {
  runs: number;
  /** Events per second of the load (batches of 100): one profiles sustains, or the backlog is measured. */
  rate: number;
  downSeconds: number;
  /** Extra environment of the services (e.g. NATS_ACK_WAIT_MS to compare ack waits). */
  env: Record<string, string>;
}

const ADMIN_API_KEY = `bench-admin-${randomUUID()}`;

export async function benchFaults(options: FaultBenchOptions): Promise<void> {
  const [nats, postgres] = await Promise.all([startPrivateNats(), startPrivatePostgres()]);
  const running: ServiceProcess[] = [];
  const start = async (app: string) => {
    const service = await startServiceProcess({
      app,
      mode: 'dist',
      env: { NATS_URL: nats.url, NATS_PREFIX: 'benchfaults', DATABASE_URL: postgres.url, LOG_LEVEL: 'warn', ADMIN_API_KEY, ...options.env },
      readyTimeoutMs: 120000,
    });
    running.push(service);
    return service;
  };
  try {
    print(`\nFaults · private NATS ${nats.url}, private PostgreSQL ${postgres.url} · load ${fmt(options.rate)} events/s · ${options.runs} runs · env ${JSON.stringify(options.env)}`);
    const ingestion = await start('ingestion');
    let profiles = await start('profiles');
    const segmentation = await start('segmentation');
    const source = await fetch(`${ingestion.url}/v1/sources`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' }, body: '{"name":"bench"}' });
    const writeKey = ((await source.json()) as { writeKey: string }).writeKey;
    const stored = (ids: string[]) => missingCount(postgres, ids);
    const nc = await connect({ servers: nats.url });
    const jsm = await nc.jetstreamManager();
    // Killed mid-batch: while profiles holds messages it has not acknowledged (at this load it is often idle).
    const holding = () =>
      waitFor(async () => ((await jsm.consumers.info('benchfaults_EVENTS', 'profiles-events').catch(() => undefined))?.num_ack_pending ?? 0) > 0, {
        timeoutMs: 30000,
        intervalMs: 5,
        what: 'profiles holding unacknowledged messages',
      });
    // Each run starts from a drained stream: a backlog would be measured instead of the recovery.
    const drained = (ids: string[]) => waitFor(async () => (await stored(ids)) === 0, { timeoutMs: 180000, intervalMs: 250, what: 'the load of the run stored' });

    const pgReady: number[] = [];
    const pgStored: number[] = [];
    for (let run = 0; run < options.runs; run += 1) {
      const load = startLoad(ingestion.url, writeKey, `pg${run}-${randomUUID().slice(0, 6)}`, options.rate);
      await sleep(3000);
      const before = [...load.acked];
      await postgres.stopServer('fast');
      await sleep(options.downSeconds * 1000);
      await postgres.startServer();
      const back = Date.now();
      await Promise.all(
        [ingestion, profiles, segmentation].map((s) => waitFor(async () => (await statusOf(`${s.url}/ready`)) === 200, { timeoutMs: 120000, intervalMs: 100, what: `${s.name} ready` })),
      );
      pgReady.push(Date.now() - back);
      await waitFor(async () => (await stored(before)) === 0, { timeoutMs: 120000, intervalMs: 100, what: 'the events acknowledged before the stop' });
      pgStored.push(Date.now() - back);
      await load.stop();
      await drained(load.acked);
      print(`  PostgreSQL down ${options.downSeconds} s: every service ready ${fmt(pgReady[run])} ms and every earlier event stored ${fmt(pgStored[run])} ms after it was back`);
    }

    const killReady: number[] = [];
    const killStored: number[] = [];
    for (let run = 0; run < options.runs; run += 1) {
      const load = startLoad(ingestion.url, writeKey, `kill${run}-${randomUUID().slice(0, 6)}`, options.rate);
      await sleep(4000);
      await holding();
      await profiles.kill();
      const killedAt = Date.now();
      const before = [...load.acked];
      profiles = await start('profiles');
      killReady.push(Date.now() - killedAt);
      await waitFor(async () => (await stored(before)) === 0, { timeoutMs: 120000, intervalMs: 100, what: 'the events acknowledged before the kill' });
      killStored.push(Date.now() - killedAt);
      await load.stop();
      await drained(load.acked);
      print(`  profiles SIGKILLed and started again: ready after ${fmt(killReady[run])} ms, every earlier event stored after ${fmt(killStored[run])} ms`);
    }

    const replicaStored: number[] = [];
    // A second replica, started before the first kill; after each kill a new one joins.
    let spare = await start('profiles');
    for (let run = 0; run < options.runs; run += 1) {
      const load = startLoad(ingestion.url, writeKey, `replica${run}-${randomUUID().slice(0, 6)}`, options.rate);
      await sleep(4000);
      await holding();
      await profiles.kill();
      const killedAt = Date.now();
      const before = [...load.acked];
      await waitFor(async () => (await stored(before)) === 0, { timeoutMs: 120000, intervalMs: 100, what: 'the events acknowledged before the kill' });
      replicaStored.push(Date.now() - killedAt);
      await load.stop();
      await drained(load.acked);
      print(`  profiles SIGKILLed beside a running replica: every earlier event stored after ${fmt(replicaStored[run])} ms`);
      // The survivor becomes the one to kill next; a fresh spare takes its place.
      profiles = spare;
      spare = await start('profiles');
    }

    await nc.close();
    print(
      `  median of ${options.runs}: PostgreSQL restart → ready ${fmt(median(pgReady))} ms, stored ${fmt(median(pgStored))} ms; SIGKILL + restart → ready ${fmt(median(killReady))} ms, stored ${fmt(median(killStored))} ms; SIGKILL beside a replica → stored ${fmt(median(replicaStored))} ms`,
    );
  } finally {
    await Promise.all(running.map((service) => service.stop()));
    await Promise.all([nats.stop(), postgres.stop()]);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function statusOf(url: string): Promise<number | undefined> {
  return (await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined))?.status;
}

async function missingCount(postgres: PrivatePostgres, ids: string[]): Promise<number> {
  const client = new Client({ connectionString: postgres.url });
  try {
    await client.connect();
    return (await client.query<{ n: number }>('select count(*)::int as n from unnest($1::text[]) as id where id not in (select id from profiles.events)', [ids])).rows[0].n;
  } catch {
    return Number.POSITIVE_INFINITY;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Paced batches of 100, each sent again (same messageIds) until answered 200; the acknowledged ids are collected. */
function startLoad(url: string, writeKey: string, tag: string, rate: number): { acked: string[]; stop(): Promise<void> } {
  const acked: string[] = [];
  let stopped = false;
  const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const done = (async () => {
    for (let first = 0; !stopped; first += 100) {
      const startedAt = Date.now();
      const ids = Array.from({ length: 100 }, (_, i) => `${tag}-${first + i}`);
      const body = JSON.stringify({ batch: ids.map((messageId, i) => ({ type: 'track', messageId, userId: `${tag}-user-${(first + i) % 500}`, event: 'Product Viewed' })) });
      for (;;) {
        const response = await fetch(`${url}/v1/batch`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10000) }).catch(
          () => undefined,
        );
        if (response?.status === 200) break;
        if (stopped) return;
        await sleep(250);
      }
      acked.push(...ids);
      await sleep(Math.max(0, (100 / rate) * 1000 - (Date.now() - startedAt)));
    }
  })();
  return {
    acked,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}
