import { Injectable } from '@nestjs/common';
import { ProfilesConfig } from '../config';
import { BlocklistRepository } from './blocklist.repository';
import { identifierKey, type Identifier } from './identifiers';
import { parseBlocklist } from './identity-rules';

const TTL_MS = 5_000;

export interface BlockedIdentifier {
  kind: string;
  value: string;
  reason: string | null;
  /** `config` entries come from IDENTITY_BLOCKLIST and cannot be removed through the API. */
  origin: 'config' | 'api';
}

/** Identifier values that never link profiles: IDENTITY_BLOCKLIST plus entries added through the admin API. */
@Injectable()
export class BlocklistService {
  private readonly fromConfig: BlockedIdentifier[];
  private cache: Set<string> | undefined;
  private loadedAt = 0;

  constructor(
    config: ProfilesConfig,
    private readonly repository: BlocklistRepository,
  ) {
    this.fromConfig = parseBlocklist(config.IDENTITY_BLOCKLIST ?? '').map((e) => ({ ...e, reason: 'IDENTITY_BLOCKLIST', origin: 'config' as const }));
  }

  /** A predicate over identifiers, valid for this batch (the list is re-read every few seconds). */
  async predicate(): Promise<(identifier: Identifier) => boolean> {
    if (!this.cache || Date.now() - this.loadedAt > TTL_MS) {
      const entries = await this.list();
      this.cache = new Set(entries.map(identifierKey));
      this.loadedAt = Date.now();
    }
    const blocked = this.cache;
    return (identifier) => blocked.has(identifierKey(identifier));
  }

  async list(): Promise<BlockedIdentifier[]> {
    const rows = await this.repository.list();
    return [...this.fromConfig, ...rows.map((r) => ({ kind: r.kind, value: r.value, reason: r.reason, origin: 'api' as const }))];
  }

  async add(kind: string, value: string, reason: string | null): Promise<BlockedIdentifier> {
    await this.repository.upsert(kind, value, reason);
    this.cache = undefined;
    return { kind, value, reason, origin: 'api' };
  }

  /** Removes an API entry; false when there was none. */
  async remove(kind: string, value: string): Promise<boolean> {
    const removed = await this.repository.delete(kind, value);
    this.cache = undefined;
    return removed;
  }

  isConfigured(kind: string, value: string): boolean {
    return this.fromConfig.some((e) => e.kind === kind && e.value === value);
  }
}
