import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { sql } from 'drizzle-orm';
import type { Envelope } from '@segmenta/contracts';
import { JetStreamClient } from '@segmenta/messaging';
import { DATABASE, type Database, anyOf, queryRows } from '@segmenta/persistence';
import type * as tables from '../db/schema';
import type { OutboxRow } from '../activity/profile-store.repository';

/**
 * Publishes outbox rows after their transaction committed and deletes them once JetStream stored
 * them. Rows a crash or an unreachable NATS left behind are published by the relay; a row
 * published twice carries the same envelope id, which JetStream and consumers drop.
 */
@Injectable()
export class OutboxPublisher implements BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxPublisher.name);
  private closing = false;
  private relaying = false;

  constructor(
    private readonly client: JetStreamClient,
    @Inject(DATABASE) private readonly database: Database<typeof tables>,
  ) {}

  /** Publishes and deletes; on failure leaves the rows to the relay and resolves anyway. */
  async publish(rows: OutboxRow[]): Promise<boolean> {
    if (rows.length === 0) return true;
    try {
      await this.client.publishMany(rows.map((r) => ({ subject: r.subject, envelope: r.envelope as Envelope, partitionKey: r.partitionKey ?? undefined })));
    } catch (error) {
      this.logger.warn(`${rows.length} PROFILES messages not published yet (${(error as Error).message}); the relay retries`);
      return false;
    }
    await this.database.db.execute(sql`delete from profiles.outbox where id = ${anyOf(rows.map((r) => r.id), 'bigint')}`);
    return true;
  }

  /** Publishes rows older than a few seconds: their own publish failed or their process died. */
  @Interval('profiles-outbox-relay', 3000)
  async relay(): Promise<number> {
    if (this.closing || this.relaying) return 0;
    this.relaying = true;
    let total = 0;
    try {
      for (;;) {
        const rows = await queryRows<{ id: string | number; subject: string; envelope: unknown; partition_key: string | null }>(
          this.database.db,
          sql`select id, subject, envelope, partition_key from profiles.outbox where created_at < now() - interval '3 seconds' order by id limit 1000`,
        );
        if (rows.length === 0 || this.closing) break;
        const ok = await this.publish(rows.map((r) => ({ id: Number(r.id), subject: r.subject, envelope: r.envelope, partitionKey: r.partition_key })));
        if (!ok) break;
        total += rows.length;
        if (rows.length < 1000) break;
      }
      if (total > 0) this.logger.log(`relay published ${total} PROFILES messages left in the outbox`);
    } catch (error) {
      this.logger.warn(`outbox relay failed: ${(error as Error).message}`);
    } finally {
      this.relaying = false;
    }
    return total;
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
  }
}
