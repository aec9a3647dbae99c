import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { KeyValueBucket, type BucketMirror } from '@segmenta/messaging';
import type { BaseServiceConfig } from '../config';
import { SERVICE_CONFIG } from '../service-config';
import { checkRecord, hashApiKeySecret, indexByHash, parseApiKeyRecord, sameHash, type ApiKeyRecord, type KeyCheck } from './api-key';
import { withTimeout } from '../with-timeout';

/** Injection token of the key-value bucket that holds the API key records. */
export const API_KEYS_BUCKET = Symbol('API_KEYS_BUCKET');

/** One bucket per NATS_PREFIX, so parallel test runs and environments keep their keys apart. */
export function apiKeysBucketName(prefix: string): string {
  return `${prefix}_api_keys`;
}

/** How long start-up waits for the first complete copy of the bucket. */
const READY_TIMEOUT_MS = 10000;
/** How long a key's creation, rotation or revocation waits for this service's copy to hold it. */
const READ_YOUR_WRITES_TIMEOUT_MS = 5000;

/**
 * The API keys every service checks locally: a watched copy of the bucket, indexed by hash, so a
 * request costs one SHA-256 and no network call; a change (revocation) arrives within the watch's
 * latency. ADMIN_API_KEY is the bootstrap admin key.
 */
@Injectable()
export class ApiKeyRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ApiKeyRegistry');
  private index = new Map<string, ApiKeyRecord>();
  private mirror?: BucketMirror;
  private bootstrapHash?: string;

  constructor(
    @Inject(API_KEYS_BUCKET) private readonly bucket: KeyValueBucket,
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.mirror = this.bucket.mirror({
      onChange: (entries) => {
        const records: ApiKeyRecord[] = [];
        for (const [key, value] of entries) {
          const record = parseApiKeyRecord(value);
          if (record) records.push(record);
          else this.logger.warn(`ignoring malformed API key record ${key}`);
        }
        this.index = indexByHash(records);
      },
      log: (level, message) => this.logger[level](message),
    });
    await withTimeout(this.mirror.ready, READY_TIMEOUT_MS, `load of the API key bucket ${this.bucket.name}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.mirror?.stop();
  }

  /**
   * Waits until this copy holds the bucket's `revision` (the service's own write), so a key is
   * usable here as soon as its creation is answered; other services see it within the watch's
   * latency. A slow watch only delays, never fails, the write that waits.
   */
  async reached(revision: number): Promise<void> {
    try {
      await withTimeout(this.mirror?.reached(revision) ?? Promise.resolve(), READ_YOUR_WRITES_TIMEOUT_MS, `revision ${revision} of the API key bucket`);
    } catch (error) {
      this.logger.warn(`${(error as Error).message}; answering without it`);
    }
  }

  /** The scopes a presented secret grants, or why it grants none. */
  authenticate(secret: string, now = new Date()): KeyCheck {
    // One hash per request: the given secret's, compared in constant time with the bootstrap key's, hashed once.
    const hash = hashApiKeySecret(secret);
    const bootstrap = this.config.ADMIN_API_KEY;
    if (bootstrap && sameHash(hash, (this.bootstrapHash ??= hashApiKeySecret(bootstrap)))) return { ok: true, keyId: 'ADMIN_API_KEY', scopes: ['admin'] };
    return checkRecord(this.index.get(hash), hash, now);
  }
}
