import { randomUUID } from 'node:crypto';
import { Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { SourcesRepository, type Source } from './sources.repository';
import { hashWriteKey, newWriteKey } from './write-key';

/** How long a write-key lookup is trusted before the database is asked again (other replicas' changes). */
const KEY_CACHE_TTL_MS = 5000;

@Injectable()
export class SourcesService {
  private readonly byKeyHash = new Map<string, { source: Source; expiresAt: number }>();

  constructor(private readonly repository: SourcesRepository) {}

  /** Creates a source; its write key is returned once and only its hash is stored. */
  async create(name: string): Promise<{ source: Source; writeKey: string }> {
    const writeKey = newWriteKey();
    const source = await this.repository.insert({ id: randomUUID(), name, writeKeyHash: hashWriteKey(writeKey), enabled: true });
    return { source, writeKey };
  }

  list(): Promise<Source[]> {
    return this.repository.list();
  }

  async update(id: string, changes: { name?: string; enabled?: boolean }): Promise<Source> {
    const source = await this.repository.update(id, changes);
    if (!source) throw this.notFound(id);
    this.forget(source.writeKeyHash);
    return source;
  }

  /** Replaces the write key; the old one stops working at once on this replica. */
  async rotateKey(id: string): Promise<{ source: Source; writeKey: string }> {
    const previous = await this.repository.findById(id);
    if (!previous) throw this.notFound(id);
    const writeKey = newWriteKey();
    const source = (await this.repository.update(id, { writeKeyHash: hashWriteKey(writeKey) })) as Source;
    this.forget(previous.writeKeyHash);
    return { source, writeKey };
  }

  /** The enabled source of a write key, or a 401 that says what is wrong. */
  async authenticate(writeKey: string | undefined): Promise<Source> {
    if (!writeKey) {
      throw new UnauthorizedException({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Missing write key: send it as the Basic auth user name or as writeKey in the body',
        details: [{ field: 'writeKey', problem: 'missing' }],
      });
    }
    const hash = hashWriteKey(writeKey);
    const cached = this.byKeyHash.get(hash);
    const fresh = cached !== undefined && cached.expiresAt > Date.now();
    const source = fresh ? cached.source : await this.repository.findByKeyHash(hash);
    // An expired entry is renewed too: otherwise every request after the first TTL would ask the database.
    if (source && !fresh) this.byKeyHash.set(hash, { source, expiresAt: Date.now() + KEY_CACHE_TTL_MS });
    if (!source && cached) this.byKeyHash.delete(hash);
    if (!source || !source.enabled) {
      throw new UnauthorizedException({
        statusCode: 401,
        error: 'Unauthorized',
        message: source ? 'This source is disabled' : 'Unknown write key',
        details: [{ field: 'writeKey', problem: source ? 'source disabled' : 'unknown' }],
      });
    }
    return source;
  }

  private forget(writeKeyHash: string): void {
    this.byKeyHash.delete(writeKeyHash);
  }

  private notFound(id: string): NotFoundException {
    return new NotFoundException({ statusCode: 404, error: 'Not Found', message: `No source with id "${id}"`, details: [{ field: 'id', problem: 'not found' }] });
  }
}
