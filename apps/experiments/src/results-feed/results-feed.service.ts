import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InvalidStateError, scheduleJob } from '@segmenta/chassis';
import { SUBJECTS, type ExperimentResultsV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { ExperimentsConfig } from '../config';
import { ExperimentsService } from '../experiments/experiments.service';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import { resultsBySegment } from './results-message';

/**
 * The results feed (issue 22): every running experiment's results by segment, recomputed on
 * EXPERIMENTS_RESULTS_CRON and on demand, published as experiments.results through the outbox.
 * Segmentation shows them next to each segment's KPIs.
 */
@Injectable()
export class ResultsFeedService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ResultsFeedService.name);

  constructor(
    private readonly repository: ExperimentsRepository,
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
    for (const key of await this.experiments.runningKeys()) {
      const data = await this.compute(key);
      // Stopped since the list was read: its final results still go out (segmentation retires it).
      messages.push(this.message(data));
    }
    await this.send(messages);
    return messages.length;
  }

  /** Publishes one experiment's results now: a running one's current results, or a stopped one's final results (which retire it downstream). */
  async publish(key: string): Promise<ExperimentResultsV1> {
    const data = await this.compute(key);
    if (data.status === 'draft') throw new InvalidStateError(`Experiment ${key} is a draft: it has no results to publish until it runs`, [{ field: 'status', problem: 'draft' }]);
    await this.send([this.message(data)]);
    return data;
  }

  private async compute(key: string): Promise<ExperimentResultsV1> {
    // Taken before reading: results computed later carry a later time, so the newest wins downstream.
    const at = new Date().toISOString();
    const { experimentId, kind, results } = await this.experiments.resultsWithIdentity(key, true);
    return { experimentId, key, kind, status: results.status, at, ...resultsBySegment(results.metrics) };
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
