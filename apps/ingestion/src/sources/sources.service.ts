import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Metrics, NotFoundError, TrafficControl, UnauthenticatedError, type Counter } from '@segmenta/chassis';
import { IngestionConfig } from '../config';
import { SourcesRepository, type Source } from './sources.repository';
import { hashWriteKey, newWriteKey } from './write-key';

/** How long a write-key lookup is trusted before the database is asked again (other replicas' changes). */
const KEY_CACHE_TTL_MS = 5000;
/** Unknown keys remembered at most (oldest dropped first): a flood of distinct keys cannot grow memory. */
const UNKNOWN_KEYS_MAX = 10_000;

@Injectable()
export class SourcesService {
  private readonly byKeyHash = new Map<string, { source: Source; expiresAt: number }>();
  /** Hashes of keys the database did not know, with when to ask again. */
  private readonly unknown = new Map<string, number>();
  private readonly unknownTtlMs: number;
  private readonly lookups: Counter;
  private readonly unknownCached: Counter;

  constructor(
    private readonly repository: SourcesRepository,
    config: IngestionConfig,
    private readonly traffic: TrafficControl,
    metrics: Metrics,
  ) {
    this.unknownTtlMs = config.WRITE_KEY_NEGATIVE_CACHE_SECONDS * 1000;
    this.lookups = metrics.counter('segmenta_write_key_lookups_total', 'Write keys looked up in the database (not answered from memory).');
    this.unknownCached = metrics.counter('segmenta_write_key_unknown_cached_total', 'Unknown write keys refused from memory, without a database look-up.');
  }

  /** Creates a source; its write key is returned once and only its hash is stored. */
  async create(name: string): Promise<{ source: Source; writeKey: string }> {
    const writeKey = newWriteKey();
    const source = await this.repository.insert({ id: randomUUID(), name, writeKeyHash: hashWriteKey(writeKey), enabled: true });
    this.unknown.delete(source.writeKeyHash);
    return { source, writeKey };
  }

  list(): Promise<Source[]> {
    return this.repository.list();
  }

  async update(id: string, changes: { name?: string; enabled?: boolean }): Promise<Source> {
    // Nothing to change (PATCH {}): an UPDATE without columns is no SQL, answer with the source as it is.
    const unchanged = Object.values(changes).every((value) => value === undefined);
    const source = unchanged ? await this.repository.findById(id) : await this.repository.update(id, changes);
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
    this.unknown.delete(source.writeKeyHash);
    return { source, writeKey };
  }

  /**
   * The enabled source of a write key, or a 401 that says what is wrong. `address` is the
   * client's: an unknown key counts as a failed authentication for it, and once it is locked out
   * only keys known valid here pass (a shared egress address keeps its good traffic while a stale
   * or guessed key is refused without a database look-up).
   */
  async authenticate(writeKey: string | undefined, address?: string): Promise<Source> {
    if (!writeKey) {
      throw new UnauthenticatedError('Missing write key: send it as the Basic auth user name or as writeKey in the body', [{ field: 'writeKey', problem: 'missing' }]);
    }
    const hash = hashWriteKey(writeKey);
    const now = Date.now();
    const cached = this.byKeyHash.get(hash);
    if (cached !== undefined && cached.expiresAt > now) return this.enabled(cached.source);
    const locked = address === undefined ? 0 : this.traffic.lockedOutSeconds(address);
    if (locked > 0) throw this.traffic.lockedOut(locked);
    const unknownUntil = this.unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > now) {
      this.unknownCached.inc();
      throw this.unknownKey(address);
    }
    this.lookups.inc();
    const source = await this.repository.findByKeyHash(hash);
    if (!source) {
      this.byKeyHash.delete(hash);
      this.rememberUnknown(hash, now);
      throw this.unknownKey(address);
    }
    this.unknown.delete(hash);
    // An expired entry is renewed too: otherwise every request after the first TTL would ask the database.
    this.byKeyHash.set(hash, { source, expiresAt: now + KEY_CACHE_TTL_MS });
    return this.enabled(source);
  }

  private enabled(source: Source): Source {
    if (!source.enabled) throw new UnauthenticatedError('This source is disabled', [{ field: 'writeKey', problem: 'source disabled' }]);
    return source;
  }

  private unknownKey(address: string | undefined): UnauthenticatedError {
    if (address !== undefined) this.traffic.authenticationFailed(address);
    return new UnauthenticatedError('Unknown write key', [{ field: 'writeKey', problem: 'unknown' }]);
  }

  private rememberUnknown(hash: string, now: number): void {
    if (this.unknownTtlMs === 0) return;
    if (this.unknown.size >= UNKNOWN_KEYS_MAX) this.unknown.delete(this.unknown.keys().next().value as string);
    this.unknown.set(hash, now + this.unknownTtlMs);
  }

  private forget(writeKeyHash: string): void {
    this.byKeyHash.delete(writeKeyHash);
  }

  private notFound(id: string): NotFoundError {
    return new NotFoundError(`No source with id "${id}"`, [{ field: 'id', problem: 'not found' }]);
  }
}
