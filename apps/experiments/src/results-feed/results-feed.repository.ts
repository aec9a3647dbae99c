import { Inject, Injectable } from '@nestjs/common';
import { asc, eq } from 'drizzle-orm';
import { DATABASE, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';
import type { ExperimentsTx } from '../experiments/experiments.repository';

export type FeedExperiment = Pick<typeof tables.experiments.$inferSelect, 'id' | 'key' | 'kind' | 'status'>;

const columns = { id: tables.experiments.id, key: tables.experiments.key, kind: tables.experiments.kind, status: tables.experiments.status };

/** What the results feed reads of experiments: their ids and kinds, which the API's views leave out. */
@Injectable()
export class ResultsFeedRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  transaction<T>(work: (tx: ExperimentsTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  running(): Promise<FeedExperiment[]> {
    const e = tables.experiments;
    return this.database.db.select(columns).from(e).where(eq(e.status, 'running')).orderBy(asc(e.key));
  }

  async find(key: string): Promise<FeedExperiment | undefined> {
    const e = tables.experiments;
    const [row] = await this.database.db.select(columns).from(e).where(eq(e.key, key)).limit(1);
    return row;
  }
}
