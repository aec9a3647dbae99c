import { randomUUID } from 'node:crypto';
import { JSONCodec } from 'nats';
import { SUBJECTS, type ProfileActivityV1 } from '@segmenta/contracts';
import { waitFor, type ServiceProcess } from '@segmenta/infra';
import { createEnvelope } from '@segmenta/messaging';
import { offersProcessFixture, type OffersProcessFixture } from './offers-process-fixture';

/**
 * Loyalty earning killed mid-stream (issue 19): offers as a process on its own database and stream
 * namespace, SIGKILLed while it earns a few thousand orders, then started again. Every order earns
 * exactly once: none lost (JetStream redelivers what was not acked), none twice (the ledger's cause
 * is unique, and a replay is skipped), and the balances equal the ledger and the points an
 * independent sum over the orders gives.
 */
jest.setTimeout(240_000);

const ORDERS = 3000;
const CUSTOMERS = 300;
const codec = JSONCodec();

const describeWithServer = process.env.DATABASE_URL ? describe : describe.skip;

describeWithServer('loyalty earning survives a SIGKILL', () => {
  let fixture: OffersProcessFixture;
  let offers: ServiceProcess;

  beforeAll(async () => {
    fixture = await offersProcessFixture('offcrash');
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  const earned = () => fixture.count(`select count(*) as n from offers.points_ledger where kind = 'earn'`);

  it('earns every order exactly once across a kill and a restart', async () => {
    offers = await fixture.start();
    const created = await fetch(`${offers.url}/v1/earn-rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fixture.adminKey}`, 'content-type': 'application/json' },
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

    const js = fixture.nc.jetstream();
    const subject = `${fixture.namespace.prefix}.${SUBJECTS.profilesActivity}`;
    for (let i = 0; i < orders.length; i += 250) await Promise.all(orders.slice(i, i + 250).map((o) => js.publish(subject, codec.encode(createEnvelope(SUBJECTS.profilesActivity, o)))));

    await waitFor(async () => (await earned()) > 0, { timeoutMs: 60_000, what: 'the first orders earned' });
    await offers.kill();
    const atKill = await earned();
    expect(atKill).toBeLessThan(ORDERS);

    // The same orders again, as an upstream that replays would send them.
    for (let i = 0; i < 500; i += 250) await Promise.all(orders.slice(i, i + 250).map((o) => js.publish(subject, codec.encode(createEnvelope(SUBJECTS.profilesActivity, o)))));
    offers = await fixture.start();
    await waitFor(async () => (await earned()) >= ORDERS, { timeoutMs: 120_000, what: `all ${ORDERS} orders earned (${atKill} at the kill)` });
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const rows = (
      await fixture.client.query<{ entries: string; orders: string; points: string; balances: string }>(
        `select (select count(*) from offers.points_ledger where kind = 'earn') as entries,
           (select count(distinct order_id) from offers.points_ledger where kind = 'earn') as orders,
           (select sum(pending_delta + available_delta) from offers.points_ledger where kind = 'earn') as points,
           (select sum(pending + available) from offers.loyalty_accounts) as balances`,
      )
    ).rows[0];
    expect(rows).toEqual({ entries: String(ORDERS), orders: String(ORDERS), points: String(expectedPoints), balances: String(expectedPoints) });
    const check = (await (await fetch(`${offers.url}/v1/loyalty/ledger-check`, { headers: { authorization: `Bearer ${fixture.adminKey}` } })).json()) as { ok: boolean; accounts: number };
    expect(check).toMatchObject({ ok: true, accounts: CUSTOMERS });
  });
});
