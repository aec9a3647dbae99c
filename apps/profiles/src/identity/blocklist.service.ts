import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq } from 'drizzle-orm';
import { DATABASE, type Database } from '@segmenta/persistence';
import { ProfilesConfig } from '../config';
import * as tables from '../db/schema';
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
    @Inject(DATABASE) private readonly database: Database<typeof tables>,
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
    const rows = await this.database.db.select().from(tables.identityBlocklist).orderBy(asc(tables.identityBlocklist.kind), asc(tables.identityBlocklist.value));
    return [...this.fromConfig, ...rows.map((r) => ({ kind: r.kind, value: r.value, reason: r.reason, origin: 'api' as const }))];
  }

  async add(kind: string, value: string, reason: string | null): Promise<BlockedIdentifier> {
    await this.database.db.insert(tables.identityBlocklist).values({ kind, value, reason }).onConflictDoUpdate({ target: [tables.identityBlocklist.kind, tables.identityBlocklist.value], set: { reason } });
    this.cache = undefined;
    return { kind, value, reason, origin: 'api' };
  }

  /** Removes an API entry; false when there was none. */
  async remove(kind: string, value: string): Promise<boolean> {
    const removed = await this.database.db
      .delete(tables.identityBlocklist)
      .where(and(eq(tables.identityBlocklist.kind, kind), eq(tables.identityBlocklist.value, value)))
      .returning({ kind: tables.identityBlocklist.kind });
    this.cache = undefined;
    return removed.length > 0;
  }

  isConfigured(kind: string, value: string): boolean {
    return this.fromConfig.some((e) => e.kind === kind && e.value === value);
  }
}
