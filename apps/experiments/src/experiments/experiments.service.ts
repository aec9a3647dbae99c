import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConflictError, InvalidStateError, NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import { SUBJECTS, type ExperimentChangedV1, type ExperimentStatus, type SegmentReferencesV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { banditSegmentOf, compileAssignment, type Assignment } from '@segmenta/stats';
import { experimentSegmentKeys, validateExperimentDefinition, type ExperimentDefinition, type ExperimentMetric } from './experiment-definition';
import { banditWeights } from '../results/bandit-weights';
import { EXPERIMENT_KEY, type CreateExperimentDto, type ListExperimentsQueryDto, type UpdateExperimentDto } from './experiments.dto';
import { planExperiment, type ExperimentPlan, type ExperimentPlanInput } from '../results/experiment-plan';
import { experimentResults } from '../results/experiment-results';
import { EXPOSURES_METRIC, ExperimentsRepository, type ExperimentRow, type ExperimentsTx } from './experiments.repository';
import { ExposureWriter, type ExposureSource } from './exposure-writer';

/** How long a replica assigns from an experiment it read: a change made through another replica is seen within this. */
const ASSIGNMENT_CACHE_MS = 1000;
const ASSIGNMENT_CACHE_MAX = 1000;

/** The programme holdout's key (issue 22): it is managed under /v1/programme/holdout. */
export const PROGRAMME_HOLDOUT_KEY = 'programme-holdout';
/** Keys that are routes under /v1/experiments, or the programme's. */
const RESERVED_KEYS = ['sample-size', PROGRAMME_HOLDOUT_KEY];

const MOVES: Record<ExperimentStatus, readonly ExperimentStatus[]> = { draft: ['running'], running: ['stopped'], stopped: [] };

const definitionOf = (row: ExperimentRow): ExperimentDefinition => ({
  hypothesis: row.hypothesis ?? '',
  targeting: row.targeting,
  variants: row.variants,
  metrics: row.metrics,
  seed: row.seed,
  allocation: row.allocation,
});

const experimentView = (row: ExperimentRow) => ({
  key: row.key,
  name: row.name,
  kind: row.kind,
  status: row.status,
  revision: row.revision,
  seed: row.seed,
  definition: definitionOf(row),
  segmentWeights: row.segmentWeights ?? null,
  allocatedAt: row.allocatedAt?.toISOString() ?? null,
  startedAt: row.startedAt?.toISOString() ?? null,
  endedAt: row.endedAt?.toISOString() ?? null,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** The programme holdout changes only through /v1/programme/holdout. */
function notTheHoldout(row: ExperimentRow): ExperimentRow {
  if (row.kind === 'holdout') throw new InvalidStateError(`${row.key} is the programme holdout: manage it with /v1/programme/holdout`, [{ field: 'key', problem: 'is the programme holdout' }]);
  return row;
}

/** A definition checked, its problems named under `definition.` */
function checkedDefinition(input: unknown, key: string): ExperimentDefinition {
  const checked = validateExperimentDefinition(input, key);
  if (!checked.ok) throw ValidationFailedError.of(checked.problems.map((p) => ({ field: p.field === 'definition' ? p.field : `definition.${p.field}`, problem: p.problem })));
  return checked.value;
}

/** What a running experiment may not change: it would move customers between variants or out of the experiment's population. */
function frozenWhileRunning(before: ExperimentDefinition, after: ExperimentDefinition): string[] {
  // Stored definitions come back from jsonb with their keys reordered: compare with sorted keys.
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
  const fields: string[] = [];
  if (before.seed !== after.seed) fields.push('definition.seed');
  if (!same(before.variants, after.variants)) fields.push('definition.variants');
  if (!same(before.targeting.segments, after.targeting.segments)) fields.push('definition.targeting.segments');
  if (!same(before.targeting.namespace, after.targeting.namespace)) fields.push('definition.targeting.namespace');
  if (before.targeting.placement !== after.targeting.placement) fields.push('definition.targeting.placement');
  if (after.targeting.trafficShare < before.targeting.trafficShare) fields.push('definition.targeting.trafficShare');
  if (!same(before.allocation, after.allocation)) fields.push('definition.allocation');
  return fields;
}

export interface AssignmentAnswer {
  experiment: string;
  inExperiment: boolean;
  /** Why not: not running, not targeted (segments), namespace, traffic. */
  reason: string | null;
  variant: { key: string; name: string; offers: string[]; payload: Record<string, unknown> | null } | null;
  exposedAt: string | null;
}

/**
 * Experiments (issue 21): definitions checked field by field, draft → running → stopped, each
 * change announced as experiments.changed (services assign in process from it) and the targeted
 * segments as experiments.segment-references, in the change's transaction. Assignment hashes the
 * way GrowthBook does; an exposure is recorded once per customer with the variant it first got.
 */
@Injectable()
export class ExperimentsService {
  /** Experiments as assignment reads them (the hot path): by key, with their ranges worked out once. */
  private readonly assigning = new Map<
    string,
    { row: ExperimentRow | undefined; assign: ((profileId: string) => Assignment) | null; bySegment: Map<string, (profileId: string) => Assignment>; readAt: number }
  >();

  constructor(
    private readonly repository: ExperimentsRepository,
    private readonly outbox: Outbox,
    private readonly exposures: ExposureWriter,
  ) {}

  async create(body: CreateExperimentDto) {
    if (RESERVED_KEYS.includes(body.key)) throw ValidationFailedError.of([{ field: 'key', problem: `${body.key} is reserved (a route, or the programme holdout); choose another key` }]);
    const definition = checkedDefinition(body.definition, body.key);
    return this.saving(async (tx) => {
      const row = await this.repository.create(tx, { id: randomUUID(), key: body.key, name: body.name, definition });
      if (!row) throw new ConflictError(`An experiment ${body.key} exists`, [{ field: 'key', problem: 'is taken' }]);
      await this.announce(tx, row);
      return experimentView(row);
    });
  }

  async get(key: string) {
    return experimentView(await this.found(key));
  }

  async list(query: ListExperimentsQueryDto) {
    const limit = query.limit ?? 50;
    const rows = await this.repository.list(limit + 1, query.cursor, query.status);
    const page = rows.slice(0, limit);
    return {
      experiments: page.map((r) => ({ key: r.key, name: r.name, status: r.status, revision: r.revision, startedAt: r.startedAt?.toISOString() ?? null, endedAt: r.endedAt?.toISOString() ?? null })),
      nextCursor: rows.length > limit ? page[page.length - 1].key : null,
    };
  }

  /** A draft changes freely; a running experiment its name, hypothesis, metrics and a larger traffic share only; a stopped one not at all. */
  async update(key: string, body: UpdateExperimentDto) {
    if (body.name === undefined && body.definition === undefined) throw ValidationFailedError.of([{ field: 'definition', problem: 'give a definition, a name, or both' }]);
    return this.saving(async (tx) => {
      const current = notTheHoldout(await this.locked(tx, key));
      if (current.status === 'stopped') throw new InvalidStateError(`Experiment ${key} is stopped; stopped experiments are final`, [{ field: 'status', problem: 'stopped' }]);
      const definition = body.definition === undefined ? undefined : checkedDefinition(body.definition, key);
      if (definition && current.status === 'running') {
        const frozen = frozenWhileRunning(definitionOf(current), definition);
        if (frozen.length > 0)
          throw new InvalidStateError(
            `Experiment ${key} is running: changing ${frozen.join(', ')} would move customers between variants or change who is in it; stop it and start a new one`,
            frozen.map((field) => ({ field, problem: 'cannot change while the experiment runs' })),
          );
      }
      const row = await this.repository.update(tx, key, { name: body.name, definition });
      await this.announce(tx, row);
      return experimentView(row);
    });
  }

  async changeStatus(key: string, status: ExperimentStatus, kind: ExperimentRow['kind'] = 'experiment') {
    return this.saving(async (tx) => {
      const current = await this.locked(tx, key);
      if (current.kind !== kind) notTheHoldout(current);
      if (current.status === status) return experimentView(current);
      if (!MOVES[current.status].includes(status))
        throw new InvalidStateError(`Experiment ${key} cannot go from ${current.status} to ${status} (allowed: ${MOVES[current.status].join(', ') || 'none, it is final'})`, [
          { field: 'status', problem: `not allowed from ${current.status}` },
        ]);
      const now = new Date();
      const row = await this.repository.update(tx, key, { status, ...(status === 'running' ? { startedAt: now } : { endedAt: now }) });
      await this.announce(tx, row);
      return experimentView(row);
    });
  }

  /**
   * The variant of a customer, and (unless `expose` is false) their exposure recorded once: a
   * customer keeps the variant of their first exposure. Only running experiments assign.
   */
  async assign(key: string, profileId: string, expose: boolean, source: ExposureSource = 'api'): Promise<AssignmentAnswer> {
    const { row, assign, bySegment } = await this.forAssignment(key);
    const answer = (reason: string): AssignmentAnswer => ({ experiment: key, inExperiment: false, reason, variant: null, exposedAt: null });
    if (row.status !== 'running' || assign === null) return answer(`the experiment is ${row.status}`);
    const member = row.targeting.segments.length > 0 ? await this.repository.memberOf(profileId, row.targeting.segments) : [];
    if (row.targeting.segments.length > 0 && member.length === 0) return answer(`not in any of the targeted segments (${row.targeting.segments.join(', ')})`);
    // A bandit splits each segment by its own weights: the first targeted segment the customer is in.
    const segment = banditSegmentOf(row.targeting.segments, row.segmentWeights, (s) => member.includes(s));
    const assigned = ((segment === undefined ? undefined : bySegment.get(segment)) ?? assign)(profileId);
    if (!assigned.inExperiment) return answer(assigned.reason === 'namespace' ? 'outside the experiment’s namespace slice' : 'outside the traffic share');
    let variant = row.variants[assigned.variant];
    let exposedAt: string | null = null;
    if (expose) {
      const stored = await this.exposures.expose({ experimentId: row.id, key, profileId, variant: variant.key, source });
      variant = row.variants.find((v) => v.key === stored.variant) ?? variant;
      exposedAt = stored.firstExposedAt.toISOString();
    }
    return { experiment: key, inExperiment: true, reason: null, variant: { key: variant.key, name: variant.name, offers: variant.offers, payload: variant.payload }, exposedAt };
  }

  /** Results from the streaming aggregates (never a scan of exposures); `bySegment` adds a row per segment the exposed customers were in. */
  async results(key: string, bySegment: boolean) {
    return (await this.resultsWithIdentity(key, bySegment)).results;
  }

  /** The results with the experiment's id and kind (the results feed names them), from one read of the experiment. */
  async resultsWithIdentity(key: string, bySegment: boolean) {
    const row = await this.found(key);
    const rows = await this.repository.aggregatesOf(row.id);
    const results = {
      experiment: key,
      status: row.status,
      startedAt: row.startedAt?.toISOString() ?? null,
      ...experimentResults(row.variants, row.metrics, rows, bySegment, EXPOSURES_METRIC, row.allocation.type !== 'bandit'),
    };
    return { experimentId: row.id, kind: row.kind, results };
  }

  /** The keys of the running experiments, in key order. */
  async runningKeys(): Promise<string[]> {
    return this.repository.runningKeys();
  }

  /** The experiment from memory when read less than a second ago; changes made here drop what is held. */
  private async forAssignment(key: string): Promise<{ row: ExperimentRow; assign: ((profileId: string) => Assignment) | null; bySegment: Map<string, (profileId: string) => Assignment> }> {
    const now = Date.now();
    let held = this.assigning.get(key);
    if (!held || now - held.readAt > ASSIGNMENT_CACHE_MS) {
      const row = key.length <= 100 && EXPERIMENT_KEY.test(key) ? await this.repository.get(key) : undefined;
      const running = row?.status === 'running' ? row : undefined;
      const compiled = (weights: number[]) =>
        compileAssignment({
          seed: (running as ExperimentRow).seed,
          trafficShare: (running as ExperimentRow).targeting.trafficShare,
          weights,
          namespace: (running as ExperimentRow).targeting.namespace,
        });
      const assign = running ? compiled(running.variants.map((v) => v.weight)) : null;
      const bySegment = new Map(running ? Object.entries(running.segmentWeights ?? {}).map(([segment, weights]) => [segment, compiled(weights)]) : []);
      if (this.assigning.size >= ASSIGNMENT_CACHE_MAX) this.assigning.clear();
      held = { row, assign, bySegment, readAt: now };
      this.assigning.set(key, held);
    }
    if (!held.row) throw new NotFoundError(`No experiment ${key}`, [{ field: 'key', problem: 'not found' }]);
    return { row: held.row, assign: held.assign, bySegment: held.bySegment };
  }

  /**
   * A bandit's new weights per targeted segment (issue 22): Thompson sampling on the aggregates of
   * its metric in each segment, every variant kept at its floor; announced (experiments.changed) so
   * offers assigns by them. Customers already exposed keep their first variant in the results.
   */
  async reallocate(key: string, now = new Date()) {
    const updated = await this.saving(async (tx) => {
      const current = await this.locked(tx, key);
      const allocation = current.allocation;
      if (allocation.type !== 'bandit' || current.status !== 'running')
        throw new InvalidStateError(`Experiment ${key} is not a running bandit`, [{ field: 'allocation', problem: allocation.type !== 'bandit' ? 'fixed weights' : current.status }]);
      const metric = current.metrics.find((m) => m.key === allocation.metric) as ExperimentMetric;
      const rows = await this.repository.aggregatesOf(current.id);
      const weights = banditWeights(
        current.variants.map((v) => v.key),
        current.targeting.segments,
        metric,
        rows,
        allocation.floor,
      );
      const row = await this.repository.allocate(tx, key, weights, now);
      await this.announce(tx, row);
      return row;
    });
    return { experiment: key, segmentWeights: updated.segmentWeights, allocatedAt: updated.allocatedAt?.toISOString() ?? null };
  }

  /** Moves every running bandit whose cadence has come round; the others are left alone. */
  async reallocateDue(now = new Date()): Promise<number> {
    const due = await this.repository.banditsDue(now);
    for (const key of due) await this.reallocate(key, now);
    return due.length;
  }

  /** Creates the programme holdout, running at once (issue 22); undefined when it exists. */
  async createHoldout(definition: ExperimentDefinition) {
    return this.saving(async (tx) => {
      const created = await this.repository.create(tx, { id: randomUUID(), key: PROGRAMME_HOLDOUT_KEY, name: 'Programme holdout', definition, kind: 'holdout' });
      if (!created) return undefined;
      const row = await this.repository.update(tx, PROGRAMME_HOLDOUT_KEY, { status: 'running', startedAt: new Date() });
      await this.announce(tx, row);
      return experimentView(row);
    });
  }

  /** The sample-size and duration calculator. */
  plan(input: ExperimentPlanInput): ExperimentPlan {
    const planned = planExperiment(input);
    if (!planned.ok) throw ValidationFailedError.of(planned.problems);
    return planned.plan;
  }

  private async found(key: string): Promise<ExperimentRow> {
    const row = key.length <= 100 && EXPERIMENT_KEY.test(key) ? await this.repository.get(key) : undefined;
    if (!row) throw new NotFoundError(`No experiment ${key}`, [{ field: 'key', problem: 'not found' }]);
    return row;
  }

  private async locked(tx: ExperimentsTx, key: string): Promise<ExperimentRow> {
    const row = key.length <= 100 && EXPERIMENT_KEY.test(key) ? await this.repository.lock(tx, key) : undefined;
    if (!row) throw new NotFoundError(`No experiment ${key}`, [{ field: 'key', problem: 'not found' }]);
    return row;
  }

  private async saving<T>(work: (tx: ExperimentsTx) => Promise<T>): Promise<T> {
    const result = await this.repository.transaction(work);
    this.assigning.clear();
    this.outbox.wake();
    return result;
  }

  /** experiments.changed and experiments.segment-references for this revision, in the change's transaction (ADR 12). */
  private async announce(tx: ExperimentsTx, row: ExperimentRow): Promise<void> {
    const changed: ExperimentChangedV1 = {
      experimentId: row.id,
      key: row.key,
      status: row.status,
      kind: row.kind,
      revision: row.revision,
      seed: row.seed,
      segments: row.targeting.segments,
      ...(row.segmentWeights ? { segmentWeights: row.segmentWeights } : {}),
      trafficShare: row.targeting.trafficShare,
      placement: row.targeting.placement,
      namespace: row.targeting.namespace,
      variants: row.variants,
      at: row.updatedAt.toISOString(),
    };
    // A stopped experiment references no segment any more.
    const references: SegmentReferencesV1 = {
      service: 'experiments',
      ownerKind: 'experiment',
      ownerId: row.id,
      ownerName: row.name,
      segmentKeys: row.status === 'stopped' ? [] : experimentSegmentKeys(definitionOf(row)),
      revision: row.revision,
    };
    const messages: OutgoingMessage[] = [
      { subject: SUBJECTS.experimentsChanged, envelope: createEnvelope(SUBJECTS.experimentsChanged, changed, { id: `experiment-${row.id}-r${row.revision}` }), partitionKey: row.id },
      {
        subject: SUBJECTS.experimentsSegmentReferences,
        envelope: createEnvelope(SUBJECTS.experimentsSegmentReferences, references, { id: `experiment-${row.id}-references-r${row.revision}` }),
        partitionKey: row.id,
      },
    ];
    await this.outbox.write(tx, messages);
  }
}
