import { Inject, Injectable } from '@nestjs/common';
import { and, asc, inArray, sql } from 'drizzle-orm';
import { DATABASE, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';

const { memberships, profileView } = tables;

type Transaction = Parameters<Parameters<Database<typeof tables>['db']['transaction']>[0]>[0];

/** What segment discovery reads: customers with orders and their features, and the clusters' current members. */
@Injectable()
export class SegmentDiscoveryRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /** Profiles whose `orders` feature is a number of at least 1, in id order. */
  customersWithOrders(): Promise<Array<{ profileId: string; features: Record<string, unknown> }>> {
    return this.database.db
      .select({ profileId: profileView.profileId, features: profileView.features })
      .from(profileView)
      .where(and(sql`jsonb_typeof(${profileView.features} -> 'orders') = 'number'`, sql`(${profileView.features} ->> 'orders')::float8 >= 1`))
      .orderBy(asc(profileView.profileId));
  }

  membersOf(segmentIds: string[]): Promise<Array<{ segmentId: string; profileId: string }>> {
    if (segmentIds.length === 0) return Promise.resolve([]);
    return this.database.db.select({ segmentId: memberships.segmentId, profileId: memberships.profileId }).from(memberships).where(inArray(memberships.segmentId, segmentIds));
  }

  /** Runs `work` in one transaction (retried on serialization failures). */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }
}
