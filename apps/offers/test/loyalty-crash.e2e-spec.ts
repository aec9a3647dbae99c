import { randomUUID } from 'node:crypto';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { SUBJECTS, type ProfileActivityV1 } from '@segmenta/contracts';
import { startServiceProcess, waitFor, type ServiceProcess } from '@segmenta/infra';
import { createEnvelope, createTestNamespace, type TestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';

/**
 * Loyalty earning killed mid-stream (issue 19): offers as a process on its own database and stream
 * namespace, SIGKILLed while it earns a few thousand orders, then started again. Every order earns
 * exactly once: none lost (JetStream redelivers what was not acked), none twice (the ledger's cause
 * is unique, and a replay is skipped), and the balances equal the ledger and the points an
 * independent sum over the orders gives.
 */
jest.setTimeout(240_000);

const ADMIN_API_KEY = `admin-${randomUUID()}`;
const ORDERS = 3000;
const CUSTOMERS = 300;
const codec = JSONCodec();

const describeWithServer = process.env.DATABASE_URL ? describe : describe.skip;

describeWithServer('loyalty earning survives a SIGKILL', () => {
  let database: TestDatabase;
  let namespace: TestNamespace;
  let nc: NatsConnection;
  let client: Client;
  let offers: ServiceProcess | undefined;

  const start = () =>
    startServiceProcess({
      app: 'offers',
      env: { NATS_URL: process.env.NATS_URL, NATS_PREFIX: namespace.prefix, DATABASE_URL: database.url, LOG_LEVEL: 'warn', ADMIN_API_KEY, NATS_ACK_WAIT_MS: '2000' },
      readyTimeoutMs: 120_000,
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    namespace = createTestNamespace(process.env.NATS_URL as string, 'offcrash');
    nc = await connect({ servers: process.env.NATS_URL });
    client = new Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await offers?.stop();
    await client?.end();
    await nc?.close();
    await namespace?.cleanup();
    await database?.drop();
  });

  const earned = async () => Number((await client.query<{ n: string }>(`select count(*) as n from offers.points_ledger where kind = 'earn'`)).rows[0].n);

  it('earns every order exactly once across a kill and a restart', async () => {
    offers = await start();
    const created = await fetch(`${offers.url}/v1/earn-rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'euro-base', name: 'A point per euro', rule: { type: 'base', currency: 'EUR', pointsPerUnit: 1 } }),
    });
    expect(created.status).toBe(201);

    const customers = Array.from({ length: CUSTOMERS }, () => randomUUID());
    const orders: ProfileActivityV1[] = Array.from({ length: ORDERS }, (_, i) => ({
      profileId: customers[i % CUSTOMERS],
      eventId: randomUUID(),
      type: 'track',
      name: 'Order Completed',
      properties: { order_id: `crash-${i}`, revenue: 10 + (i % 97) + 0.5, currency: 'EUR' },
      traits: {},
      occurredAt: new Date().toISOString(),
    }));
    // What the orders earn, summed independently of the service: floor(revenue × 1 point per euro).
    const expectedPoints = orders.reduce((sum, o) => sum + Math.floor(o.properties.revenue as number), 0);

    const js = nc.jetstream();
    const subject = `${namespace.prefix}.${SUBJECTS.profilesActivity}`;
    for (let i = 0; i < orders.length; i += 250) await Promise.all(orders.slice(i, i + 250).map((o) => js.publish(subject, codec.encode(createEnvelope(SUBJECTS.profilesActivity, o)))));

    await waitFor(async () => (await earned()) > 0, { timeoutMs: 60_000, what: 'the first orders earned' });
    await offers.kill();
    const atKill = await earned();
    expect(atKill).toBeLessThan(ORDERS);

    // The same orders again, as an upstream that replays would send them.
    for (let i = 0; i < 500; i += 250) await Promise.all(orders.slice(i, i + 250).map((o) => js.publish(subject, codec.encode(createEnvelope(SUBJECTS.profilesActivity, o)))));
    offers = await start();
    await waitFor(async () => (await earned()) >= ORDERS, { timeoutMs: 120_000, what: `all ${ORDERS} orders earned (${atKill} at the kill)` });
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const rows = (
      await client.query<{ entries: string; orders: string; points: string; balances: string }>(
        `select (select count(*) from offers.points_ledger where kind = 'earn') as entries,
           (select count(distinct order_id) from offers.points_ledger where kind = 'earn') as orders,
           (select sum(pending_delta + available_delta) from offers.points_ledger where kind = 'earn') as points,
           (select sum(pending + available) from offers.loyalty_accounts) as balances`,
      )
    ).rows[0];
    expect(rows).toEqual({ entries: String(ORDERS), orders: String(ORDERS), points: String(expectedPoints), balances: String(expectedPoints) });
    const check = (await (await fetch(`${offers.url}/v1/loyalty/ledger-check`, { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } })).json()) as { ok: boolean; accounts: number };
    expect(check).toMatchObject({ ok: true, accounts: CUSTOMERS });
  });
});
