import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InvalidStateError, NotFoundError, scheduleJob } from '@segmenta/chassis';
import { SUBJECTS, type ExperimentResultsV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { ExperimentsConfig } from '../config';
import { ExperimentsService } from '../experiments/experiments.service';
import { resultsBySegment } from './results-message';
import { ResultsFeedRepository, type FeedExperiment } from './results-feed.repository';

/**
 * The results feed (issue 22): every running experiment's results by segment, recomputed on
 * EXPERIMENTS_RESULTS_CRON and on demand, published as experiments.results through the outbox.
 * Segmentation shows them next to each segment's KPIs.
 */
@Injectable()
export class ResultsFeedService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ResultsFeedService.name);

  constructor(
    private readonly repository: ResultsFeedRepository,
    private readonly experiments: ExperimentsService,
    private readonly outbox: Outbox,
    private readonly config: ExperimentsConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({
      scheduler: this.scheduler,
      name: 'experiment-results',
      cronTime: this.config.EXPERIMENTS_RESULTS_CRON,
      what: 'results feed',
      work: () => this.publishRunning(),
      logger: this.logger,
    });
  }

  /** Publishes every running experiment's results now; the number published. */
  async publishRunning(): Promise<number> {
    const messages: OutgoingMessage[] = [];
    for (const experiment of await this.repository.running()) {
      const data = await this.compute(experiment);
      // Stopped since the list was read: its final results still go out (segmentation retires it).
      messages.push(this.message(data));
    }
    await this.send(messages);
    return messages.length;
  }

  /** Publishes one experiment's results now: a running one's current results, or a stopped one's final results (which retire it downstream). */
  async publish(key: string): Promise<ExperimentResultsV1> {
    const current = await this.experiments.get(key);
    const experiment = await this.repository.find(current.key);
    if (!experiment) throw new NotFoundError(`No experiment ${key}`, [{ field: 'key', problem: 'not found' }]);
    if (experiment.status === 'draft') throw new InvalidStateError(`Experiment ${key} is a draft: it has no results to publish until it runs`, [{ field: 'status', problem: 'draft' }]);
    const data = await this.compute(experiment);
    await this.send([this.message(data)]);
    return data;
  }

  private async compute(experiment: FeedExperiment): Promise<ExperimentResultsV1> {
    // Taken before reading: results computed later carry a later time, so the newest wins downstream.
    const at = new Date().toISOString();
    const results = await this.experiments.results(experiment.key, true);
    return { experimentId: experiment.id, key: experiment.key, kind: experiment.kind, status: results.status, at, ...resultsBySegment(results.metrics) };
  }

  private message(data: ExperimentResultsV1): OutgoingMessage {
    // One id per experiment and computation time: a retried write is published once.
    const id = `experiment-results-${data.experimentId}-${Date.parse(data.at)}`;
    return { subject: SUBJECTS.experimentsResults, envelope: createEnvelope(SUBJECTS.experimentsResults, data, { id, occurredAt: new Date(data.at) }), partitionKey: data.experimentId };
  }

  private async send(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.repository.transaction((tx) => this.outbox.write(tx, messages));
    this.outbox.wake();
  }
}
