import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { ExperimentChangedV1, SUBJECTS } from '@segmenta/contracts';
import { JetStreamBatchConsumer, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { DATABASE, jsonParam, type Database } from '@segmenta/persistence';
import type * as tables from '../db/schema';

export const EXPERIMENT_RULES_DURABLE = 'offers-experiments';

/**
 * experiments.changed into offers.experiment_rules (the newest revision of each experiment wins);
 * the table's trigger moves catalog_version, so every replica serves the change from its next request.
 */
@Injectable()
export class ExperimentRulesHandler {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  @JetStreamBatchConsumer({ stream: 'EXPERIMENTS', durable: EXPERIMENT_RULES_DURABLE, filterSubjects: [SUBJECTS.experimentsChanged], maxBatch: 200 })
  async onChanged(messages: BatchMessage[]): Promise<void> {
    const rows = messages.map(({ envelope }) => {
      // Invalid data is not retryable: the batch is retried one by one and only that message is dead-lettered.
      assertMessageData(ExperimentChangedV1, envelope.data);
      const data = envelope.data as ExperimentChangedV1;
      return { key: data.key, experiment_id: data.experimentId, revision: data.revision, status: data.status, rules: data };
    });
    if (rows.length === 0) return;
    await this.database.db.execute(sql`insert into offers.experiment_rules (key, experiment_id, revision, status, rules)
      select distinct on (x.key) x.key, x.experiment_id, x.revision, x.status, x.rules
      from json_to_recordset(${jsonParam(rows)}::json) as x(key text, experiment_id uuid, revision int, status text, rules jsonb)
      order by x.key, x.revision desc
      on conflict (key) do update set experiment_id = excluded.experiment_id, revision = excluded.revision, status = excluded.status, rules = excluded.rules, updated_at = now()
      where offers.experiment_rules.revision < excluded.revision`);
  }
}
