import { Injectable } from '@nestjs/common';
import { InvalidStateError, NotFoundError } from '@segmenta/chassis';
import { PROGRAMME_HOLDOUT_VARIANTS } from '@segmenta/contracts';
import type { ExperimentDefinition, ExperimentMetric } from '../experiments/experiment-definition';
import { ExperimentsService, PROGRAMME_HOLDOUT_KEY } from '../experiments/experiments.service';

/** What the programme is judged on: orders, revenue, revenue net of reward cost (a year after a customer is first seen) and coming back in the second month. */
export const PROGRAMME_METRICS: ExperimentMetric[] = [
  { key: 'orders', type: 'conversion', event: 'Order Completed', where: [], days: 365, guardrail: false, goodDirection: 'up' },
  { key: 'revenue', type: 'revenue', event: null, where: [], days: 365, guardrail: false, goodDirection: 'up' },
  { key: 'net-revenue', type: 'net_revenue', event: null, where: [], days: 365, guardrail: false, goodDirection: 'up' },
  { key: 'retention', type: 'retention', event: null, where: [], days: 30, windowDays: 30, guardrail: false, goodDirection: 'up' },
];

/**
 * The programme holdout (issue 22): one long-running share of all customers, hashed as experiments
 * are (its own seed), that gets nothing personalized anywhere. Offers, loyalty and journeys learn it
 * from experiments.changed (kind holdout) and enforce it in process. Its lift, treated against held
 * out, is the whole programme's effect, per segment, from the same streaming aggregates.
 */
@Injectable()
export class ProgrammeService {
  constructor(private readonly experiments: ExperimentsService) {}

  /** Starts the holdout; the same share again changes nothing. A different share would move customers in or out of it: refused. */
  async setHoldout(share: number, seed = PROGRAMME_HOLDOUT_KEY) {
    const definition: ExperimentDefinition = {
      hypothesis: 'The loyalty programme (offers, earning rules, journeys) raises orders, revenue net of reward cost, and retention',
      targeting: { segments: [], trafficShare: 1, placement: null, namespace: null },
      variants: [
        { key: PROGRAMME_HOLDOUT_VARIANTS.holdout, name: 'Held out', weight: share, offers: [], journeyBranch: null, payload: null },
        { key: PROGRAMME_HOLDOUT_VARIANTS.treated, name: 'Treated', weight: 1 - share, offers: [], journeyBranch: null, payload: null },
      ],
      metrics: PROGRAMME_METRICS,
      seed,
      allocation: { type: 'fixed' },
    };
    const created = await this.experiments.createHoldout(definition);
    if (created) return { created: true, holdout: this.view(created) };
    const current = await this.experiments.get(PROGRAMME_HOLDOUT_KEY);
    if (current.status !== 'running') throw new InvalidStateError('The programme holdout was stopped; stopped is final', [{ field: 'status', problem: current.status }]);
    const held = current.definition.variants[0].weight;
    if (Math.abs(held - share) > 1e-9 || current.seed !== seed)
      throw new InvalidStateError(`The programme holdout runs with share ${held} and seed ${current.seed}; changing them would move customers in or out of it`, [
        { field: Math.abs(held - share) > 1e-9 ? 'share' : 'seed', problem: 'cannot change while the holdout runs' },
      ]);
    return { created: false, holdout: this.view(current) };
  }

  async holdout() {
    return this.view(await this.current());
  }

  /** Ends the holdout: everyone gets the programme from now on. */
  async stopHoldout() {
    return this.view(await holdoutOr404(() => this.experiments.changeStatus(PROGRAMME_HOLDOUT_KEY, 'stopped', 'holdout')));
  }

  /** The programme's lift: treated against held out, per metric (and segment), with incremental revenue net of reward cost. */
  async lift(bySegment: boolean) {
    const results = await holdoutOr404(() => this.experiments.results(PROGRAMME_HOLDOUT_KEY, bySegment));
    return { ...results, experiment: undefined, holdout: PROGRAMME_HOLDOUT_KEY };
  }

  private current() {
    return holdoutOr404(() => this.experiments.get(PROGRAMME_HOLDOUT_KEY));
  }

  private view(row: Awaited<ReturnType<ExperimentsService['get']>>) {
    return { share: row.definition.variants[0].weight, seed: row.seed, status: row.status, startedAt: row.startedAt, endedAt: row.endedAt, metrics: row.definition.metrics.map((m) => m.key) };
  }
}

/** Reads of the holdout, with "not started" as the reason when there is none. */
async function holdoutOr404<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError('There is no programme holdout: PUT /v1/programme/holdout starts one', [{ field: 'holdout', problem: 'not started' }]);
    throw error;
  }
}
