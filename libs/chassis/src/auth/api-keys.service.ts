import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { KeyValueBucket } from '@segmenta/messaging';
import { generateApiKeySecret, hashApiKeySecret, parseApiKeyRecord, type ApiKeyRecord, type ApiScope } from './api-key';
import { API_KEYS_BUCKET, ApiKeyRegistry } from './api-key-registry';

/** Creates, rotates and revokes keys by writing their records to the bucket every service watches. */
@Injectable()
export class ApiKeysService {
  constructor(
    @Inject(API_KEYS_BUCKET) private readonly bucket: KeyValueBucket,
    private readonly registry: ApiKeyRegistry,
  ) {}

  async create(input: { name: string; scopes: ApiScope[]; expiresAt?: string }, now = new Date()): Promise<{ record: ApiKeyRecord; secret: string }> {
    const secret = generateApiKeySecret();
    const record: ApiKeyRecord = { id: randomUUID(), name: input.name, scopes: input.scopes, hash: hashApiKeySecret(secret), createdAt: now.toISOString() };
    if (input.expiresAt) record.expiresAt = new Date(input.expiresAt).toISOString();
    await this.registry.reached(await this.bucket.create(record.id, JSON.stringify(record)));
    return { record, secret };
  }

  async list(): Promise<ApiKeyRecord[]> {
    const records = (await this.bucket.values()).map(parseApiKeyRecord).filter((r): r is ApiKeyRecord => r !== undefined);
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<ApiKeyRecord> {
    return (await this.read(id)).record;
  }

  /** A new secret; the old one keeps working for `graceSeconds` (0: not at all). */
  async rotate(id: string, graceSeconds: number, now = new Date()): Promise<{ record: ApiKeyRecord; secret: string }> {
    const { record, revision } = await this.read(id);
    if (record.revokedAt) {
      throw new ConflictException({ statusCode: 409, error: 'Conflict', message: `API key ${id} is revoked; create a new one`, details: [{ field: 'id', problem: 'revoked' }] });
    }
    const secret = generateApiKeySecret();
    const rotated: ApiKeyRecord = { ...record, hash: hashApiKeySecret(secret), rotatedAt: now.toISOString() };
    delete rotated.previousHash;
    delete rotated.previousValidUntil;
    if (graceSeconds > 0) {
      rotated.previousHash = record.hash;
      rotated.previousValidUntil = new Date(now.getTime() + graceSeconds * 1000).toISOString();
    }
    await this.write(rotated, revision);
    return { record: rotated, secret };
  }

  /** Revokes the key (and a previous secret still in its grace period); revoking twice is a no-op. */
  async revoke(id: string, now = new Date()): Promise<ApiKeyRecord> {
    const { record, revision } = await this.read(id);
    if (record.revokedAt) return record;
    const revoked: ApiKeyRecord = { ...record, revokedAt: now.toISOString() };
    await this.write(revoked, revision);
    return revoked;
  }

  private async read(id: string): Promise<{ record: ApiKeyRecord; revision: number }> {
    const entry = await this.bucket.get(id);
    const record = entry && parseApiKeyRecord(entry.value);
    if (!entry || !record) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `No API key with id "${id}"`, details: [{ field: 'id', problem: 'not found' }] });
    }
    return { record, revision: entry.revision };
  }

  /** Compare-and-set on the revision read: a concurrent rotation or revocation is not overwritten. */
  private async write(record: ApiKeyRecord, revision: number): Promise<void> {
    try {
      revision = await this.bucket.update(record.id, JSON.stringify(record), revision);
    } catch (error) {
      throw new ConflictException({
        statusCode: 409,
        error: 'Conflict',
        message: `API key ${record.id} changed concurrently; read it and try again (${(error as Error).message})`,
        details: [{ field: 'id', problem: 'concurrent change' }],
      });
    }
    await this.registry.reached(revision);
  }
}
