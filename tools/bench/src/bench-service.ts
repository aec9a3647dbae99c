import { randomBytes } from 'node:crypto';
import { createTestNamespace } from '@segmenta/messaging';
import { startServiceProcess, type ServiceProcess } from '@segmenta/infra';
import { createTestDatabase } from '@segmenta/persistence';
import { print } from './report';

/** Measured, not protected: no load shedding or rate limits in the way of a bench part's load. */
export const UNPROTECTED_ENV = { SHED_MAX_IN_FLIGHT: '0', SHED_EVENT_LOOP_LAG_MS: '0', RATE_LIMIT_PER_KEY: '0', RATE_LIMIT_PER_ADDRESS: '0' };

/** One service of a bench part: from `dist/`, on a database and a NATS prefix of its own. */
export interface BenchService {
  service: ServiceProcess;
  databaseUrl: string;
  adminKey: string;
  /** The NATS_PREFIX of its streams and subjects. */
  prefix: string;
  /** Stops the service, then drops the database (BENCH_KEEP_DATABASE=1 keeps it for experiments) and the prefix. */
  stop(): Promise<void>;
}

export async function startBenchService(options: { app: string; natsUrl: string; postgresUrl: string; label: string; env?: Record<string, string> }): Promise<BenchService> {
  const namespace = createTestNamespace(options.natsUrl, options.label);
  const database = await createTestDatabase({ serverUrl: options.postgresUrl });
  const adminKey = randomBytes(24).toString('base64url');
  const cleanUp = async () => {
    if (process.env.BENCH_KEEP_DATABASE === '1') print(`  kept database ${database.url}`);
    else await database.drop();
    await namespace.cleanup();
  };
  try {
    const service = await startServiceProcess({
      app: options.app,
      mode: 'dist',
      env: {
        NATS_URL: options.natsUrl,
        NATS_PREFIX: namespace.prefix,
        DATABASE_URL: database.url,
        DATA_DIR: 'memory://',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        ADMIN_API_KEY: adminKey,
        ...options.env,
      },
    });
    return {
      service,
      databaseUrl: database.url as string,
      adminKey,
      prefix: namespace.prefix,
      stop: async () => {
        await service.stop();
        await cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
