import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { startServiceProcess, type ServiceProcess } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';
import { createTestDatabase, type TestDatabase } from '@segmenta/persistence';

export interface Platform {
  /** The services, in the order asked for. */
  services: ServiceProcess[];
  /** A client of the test database (every service's schema). */
  db: Client;
  prefix: string;
  adminKey: string;
  /** The admin key as a request header. */
  admin: { authorization: string };
  /** The number a `select count(*) as n …` query answers. */
  count(query: string, values?: unknown[]): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Services as their own OS processes against a fresh test database and NATS namespace, with a
 * bootstrap admin key: what most platform tests start from.
 */
export async function startPlatform(label: string, apps: string[]): Promise<Platform> {
  if (!process.env.DATABASE_URL) throw new Error('the e2e tests need a PostgreSQL server (DATABASE_URL)');
  const natsUrl = process.env.NATS_URL as string;
  const namespace = createTestNamespace(natsUrl, label);
  const database: TestDatabase = await createTestDatabase();
  const db = new Client({ connectionString: database.url });
  await db.connect();
  const adminKey = `admin-${randomUUID()}`;
  const env = { NATS_URL: natsUrl, NATS_PREFIX: namespace.prefix, DATABASE_URL: database.url, LOG_LEVEL: 'warn', ADMIN_API_KEY: adminKey };
  const services = await Promise.all(apps.map((app) => startServiceProcess({ app, env })));
  return {
    services,
    db,
    prefix: namespace.prefix,
    adminKey,
    admin: { authorization: `Bearer ${adminKey}` },
    count: async (query, values = []) => Number((await db.query<{ n: string }>(query, values)).rows[0].n),
    stop: async () => {
      await Promise.all(services.map((service) => service.stop()));
      await db.end();
      await database.drop();
      await namespace.cleanup();
    },
  };
}
