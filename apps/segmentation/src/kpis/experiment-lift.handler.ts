import { Injectable } from '@nestjs/common';
import { ExperimentChangedV1, ExperimentResultsV1, SUBJECTS } from '@segmenta/contracts';
import { JetStreamBatchConsumer, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { ExperimentLiftRepository, type ExperimentLiftChange } from './experiment-lift.repository';

export const EXPERIMENT_RESULTS_DURABLE = 'segmentation-experiment-results';
export const EXPERIMENT_STOPS_DURABLE = 'segmentation-experiment-stops';

/**
 * experiments.results into each segment's lift per experiment (issue 22), and experiments.changed
 * for the stop alone: a stopped experiment leaves the KPI view at once, even when no final results
 * are published. The two consumers run apart; stopping is final, so their order does not matter.
 */
@Injectable()
export class ExperimentLiftHandler {
  constructor(private readonly repository: ExperimentLiftRepository) {}

  @JetStreamBatchConsumer({ stream: 'EXPERIMENTS', durable: EXPERIMENT_RESULTS_DURABLE, filterSubjects: [SUBJECTS.experimentsResults], maxBatch: 100 })
  async onResults(messages: BatchMessage[]): Promise<void> {
    const changes = messages.map(({ envelope }): ExperimentLiftChange => {
      // Invalid data is not retryable: the batch is retried one by one and only that message is dead-lettered.
      assertMessageData(ExperimentResultsV1, envelope.data);
      return { results: envelope.data };
    });
    await this.repository.apply(changes);
  }

  @JetStreamBatchConsumer({ stream: 'EXPERIMENTS', durable: EXPERIMENT_STOPS_DURABLE, filterSubjects: [SUBJECTS.experimentsChanged], maxBatch: 100 })
  async onChanged(messages: BatchMessage[]): Promise<void> {
    const changes = messages.flatMap(({ envelope }): ExperimentLiftChange[] => {
      assertMessageData(ExperimentChangedV1, envelope.data);
      const changed = envelope.data;
      return changed.status === 'stopped' ? [{ stopped: { experimentId: changed.experimentId, key: changed.key, kind: changed.kind ?? 'experiment', at: changed.at } }] : [];
    });
    await this.repository.apply(changes);
  }
}
