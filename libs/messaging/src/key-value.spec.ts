import { connect, type NatsConnection } from 'nats';
import { KeyValueBucket } from './key-value';
import { createTestNamespace } from './testing/test-prefix';

const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'kv');
let nc: NatsConnection;

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  nc = await connect({ servers: natsUrl });
});

afterAll(async () => {
  await nc?.close();
  await namespace.cleanup();
});

describe('KeyValueBucket', () => {
  it('mirrors the values written before the watch started as soon as it is ready, then every update', async () => {
    const bucket = await KeyValueBucket.open(nc, `${namespace.prefix}_mirror`);
    await bucket.create('a', '1');
    await bucket.create('b', '2');
    const revision = (await bucket.get('b'))?.revision as number;
    await bucket.update('b', '3', revision);
    let copy: ReadonlyMap<string, string> = new Map();
    const mirror = bucket.mirror({ onChange: (entries) => (copy = new Map(entries)) });
    try {
      await mirror.ready;
      expect(Object.fromEntries(copy)).toEqual({ a: '1', b: '3' });
      await bucket.create('c', '4');
      await eventually(() => copy.get('c') === '4', 'the new key in the mirror');
    } finally {
      await mirror.stop();
    }
  });

  it('holds a write once reached(its revision) resolves, with no polling (read-your-writes)', async () => {
    const bucket = await KeyValueBucket.open(nc, `${namespace.prefix}_ryw`);
    await bucket.create('old', '0');
    let copy: ReadonlyMap<string, string> = new Map();
    const mirror = bucket.mirror({ onChange: (entries) => (copy = new Map(entries)) });
    try {
      await mirror.ready;
      for (let i = 0; i < 20; i += 1) {
        const revision = await bucket.create(`k${i}`, String(i));
        await mirror.reached(revision);
        expect(copy.get(`k${i}`)).toBe(String(i));
      }
      // A revision already held resolves at once.
      await mirror.reached(1);
    } finally {
      await mirror.stop();
    }
  });

  it('is ready at once on an empty bucket', async () => {
    const bucket = await KeyValueBucket.open(nc, `${namespace.prefix}_empty`);
    let calls = 0;
    const mirror = bucket.mirror({ onChange: () => (calls += 1) });
    await mirror.ready;
    expect(calls).toBe(1);
    await mirror.stop();
  });

  it('refuses an update from a stale revision and a create of an existing key', async () => {
    const bucket = await KeyValueBucket.open(nc, `${namespace.prefix}_cas`);
    const first = await bucket.create('k', 'v1');
    await bucket.update('k', 'v2', first);
    await expect(bucket.update('k', 'v3', first)).rejects.toThrow();
    await expect(bucket.create('k', 'again')).rejects.toThrow();
    expect(await bucket.get('k')).toMatchObject({ value: 'v2' });
    expect(await bucket.values()).toEqual(['v2']);
  });
});
