import { randomBytes } from 'node:crypto';
import { connect } from 'nats';

export interface TestNamespace {
  /** A NATS_PREFIX no other test run uses: streams `<prefix>_EVENTS`, subjects `<prefix>.events.>`. */
  prefix: string;
  /** Deletes every stream of this prefix from the server. */
  cleanup(): Promise<void>;
}

/** An isolated stream namespace for one test file on the shared NATS server. */
export function createTestNamespace(natsUrl: string, label = 't'): TestNamespace {
  const prefix = `${label}_${randomBytes(5).toString('hex')}`;
  return {
    prefix,
    cleanup: async () => {
      const nc = await connect({ servers: natsUrl });
      try {
        const jsm = await nc.jetstreamManager();
        for await (const name of jsm.streams.names()) {
          // Key-value buckets live in streams named KV_<bucket>.
          if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) await jsm.streams.delete(name);
        }
      } finally {
        await nc.close();
      }
    },
  };
}
