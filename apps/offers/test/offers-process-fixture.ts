import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { startServiceProcess, type ServiceProcess } from '@segmenta/infra';
import { createTestNamespace, type TestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';

/**
 * offers as an OS process of its own (so a test can SIGKILL it), on a fresh database and stream
 * namespace, with a NATS connection and a PostgreSQL client for the test: what the crash tests share.
 * It needs a PostgreSQL server (a killed process's PGlite would go with it).
 */
export interface OffersProcessFixture {
  adminKey: string;
  namespace: TestNamespace;
  nc: NatsConnection;
  client: Client;
  /** The running process (the last started). */
  offers: ServiceProcess | undefined;
  /** Starts offers (again) with these variables on top of the fixture's. */
  start(env?: Record<string, string>): Promise<ServiceProcess>;
  /** A count(*) … as n query. */
  count(query: string): Promise<number>;
  stop(): Promise<void>;
}

export async function offersProcessFixture(label: string): Promise<OffersProcessFixture> {
  const database: TestDatabase = await createTestDatabase();
  const namespace = createTestNamespace(process.env.NATS_URL as string, label);
  const nc = await connect({ servers: process.env.NATS_URL });
  const client = new Client({ connectionString: database.url });
  await client.connect();
  const fixture: OffersProcessFixture = {
    adminKey: `admin-${randomUUID()}`,
    namespace,
    nc,
    client,
    offers: undefined,
    start: async (env = {}) => {
      fixture.offers = await startServiceProcess({
        app: 'offers',
        env: { NATS_URL: process.env.NATS_URL, NATS_PREFIX: namespace.prefix, DATABASE_URL: database.url, LOG_LEVEL: 'warn', ADMIN_API_KEY: fixture.adminKey, NATS_ACK_WAIT_MS: '2000', ...env },
        readyTimeoutMs: 120_000,
      });
      return fixture.offers;
    },
    count: async (query) => Number((await client.query<{ n: string }>(query)).rows[0].n),
    stop: async () => {
      await fixture.offers?.stop();
      await client.end();
      await nc.close();
      await namespace.cleanup();
      await database.drop();
    },
  };
  return fixture;
}
