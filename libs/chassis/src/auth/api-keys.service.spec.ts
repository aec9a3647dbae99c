import { connect, type NatsConnection } from 'nats';
import { createTestNamespace, KeyValueBucket } from '@segmenta/messaging';
import type { BaseServiceConfig } from '../config';
import { ApiKeyRegistry } from './api-key-registry';
import { ApiKeysService } from './api-keys.service';

/**
 * Read-your-writes against a real NATS: the service that creates, rotates or revokes a key
 * answers only once its own registry holds the change, so the very next request it checks sees
 * it (a CI run once got 401 from a key used right after its creation).
 */
const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'keys');
let nc: NatsConnection;
let registry: ApiKeyRegistry;
let keys: ApiKeysService;

beforeAll(async () => {
  nc = await connect({ servers: natsUrl });
  const bucket = await KeyValueBucket.open(nc, `${namespace.prefix}_api_keys`);
  registry = new ApiKeyRegistry(bucket, {} as BaseServiceConfig);
  await registry.onModuleInit();
  keys = new ApiKeysService(bucket, registry);
});

afterAll(async () => {
  await registry?.onModuleDestroy();
  await nc?.close();
  await namespace.cleanup();
});

describe('ApiKeysService with the local ApiKeyRegistry', () => {
  it('authenticates a key the moment its creation returns, and refuses it the moment its revocation returns', async () => {
    for (let i = 0; i < 50; i += 1) {
      const { record, secret } = await keys.create({ name: `k${i}`, scopes: ['read'] });
      expect(registry.authenticate(secret)).toMatchObject({ ok: true, keyId: record.id });
      await keys.revoke(record.id);
      expect(registry.authenticate(secret).ok).toBe(false);
    }
  });

  it('switches to the new secret the moment a rotation without grace returns', async () => {
    const { record, secret } = await keys.create({ name: 'rotated', scopes: ['read'] });
    for (let i = 0; i < 20; i += 1) {
      const rotated = await keys.rotate(record.id, 0);
      expect(registry.authenticate(secret).ok).toBe(false);
      expect(registry.authenticate(rotated.secret)).toMatchObject({ ok: true });
    }
  });
});
