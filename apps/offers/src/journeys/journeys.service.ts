import { Injectable } from '@nestjs/common';
import { ConflictError, InvalidStateError, NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import type { OffersTx } from '../catalog/offers.repository';
import { OFFER_KEY } from '../catalog/offers.dto';
import { isUuid } from '../redemptions/redemption-rules';
import { SUBJECTS, type SegmentReferencesV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { journeySegmentKeys, validateJourneyDefinition, type JourneyDefinition } from './journey-definition';
import type { CreateJourneyDto, ListDeliveriesQueryDto, ListEnrollmentsQueryDto, ListJourneysQueryDto, UpdateJourneyDto } from './journeys.dto';
import { JourneyRunsRepository } from './journey-runs.repository';
import { JourneysRepository, type JourneyRow, type JourneyStatus, type JourneyVersionRow } from './journeys.repository';

/** Where a journey's status may go: archived is final. */
const MOVES: Record<JourneyStatus, readonly JourneyStatus[]> = {
  draft: ['active', 'archived'],
  active: ['paused', 'archived'],
  paused: ['active', 'archived'],
  archived: [],
};

const journeyView = (row: JourneyRow, version: JourneyVersionRow) => ({
  key: row.key,
  name: row.name,
  status: row.status,
  version: row.version,
  definition: version.definition,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** A definition checked, its problems named under `definition.` */
function checkedDefinition(input: unknown): JourneyDefinition {
  const checked = validateJourneyDefinition(input);
  if (!checked.ok) throw ValidationFailedError.of(checked.problems.map((p) => ({ field: p.field === 'definition' ? p.field : `definition.${p.field}`, problem: p.problem })));
  return checked.value;
}

/**
 * Journey definitions (issue 20): each change of a definition is a new version, kept; new entries
 * run the journey's current version and customers already in it finish on theirs.
 */
@Injectable()
export class JourneysService {
  constructor(
    private readonly repository: JourneysRepository,
    private readonly runs: JourneyRunsRepository,
    private readonly outbox: Outbox,
  ) {}

  async create(body: CreateJourneyDto, actor: string) {
    const definition = checkedDefinition(body.definition);
    return this.saving(async (tx) => {
      const row = await this.repository.create(tx, { key: body.key, name: body.name, definition, actor });
      if (!row) throw new ConflictError(`A journey ${body.key} exists`, [{ field: 'key', problem: 'is taken' }]);
      await this.announceReferences(tx, row, journeySegmentKeys(definition), 1);
      return journeyView(row, { journeyKey: row.key, version: 1, definition, actor, createdAt: row.createdAt });
    });
  }

  async get(key: string) {
    const row = OFFER_KEY.test(key) ? await this.repository.get(key) : undefined;
    if (!row) throw new NotFoundError(`No journey ${key}`, [{ field: 'key', problem: 'not found' }]);
    return journeyView(row, (await this.repository.version(key, row.version)) as JourneyVersionRow);
  }

  async list(query: ListJourneysQueryDto) {
    const limit = query.limit ?? 50;
    const rows = await this.repository.list(limit + 1, query.cursor, query.status);
    const page = rows.slice(0, limit);
    return {
      journeys: page.map((r) => ({ key: r.key, name: r.name, status: r.status, version: r.version, updatedAt: r.updatedAt.toISOString() })),
      nextCursor: rows.length > limit ? page[page.length - 1].key : null,
    };
  }

  async versions(key: string) {
    await this.get(key);
    return { versions: (await this.repository.versions(key)).map((v) => ({ version: v.version, definition: v.definition, actor: v.actor, createdAt: v.createdAt.toISOString() })) };
  }

  /** A new name, and a new version when the definition is given (an archived journey changes no more). */
  async update(key: string, body: UpdateJourneyDto, actor: string) {
    if (body.name === undefined && body.definition === undefined) throw ValidationFailedError.of([{ field: 'definition', problem: 'give a definition (a new version), a name, or both' }]);
    const definition = body.definition === undefined ? undefined : checkedDefinition(body.definition);
    return this.saving(async (tx) => {
      const current = await this.locked(tx, key);
      if (current.status === 'archived') throw new InvalidStateError(`Journey ${key} is archived; archived journeys are final`, [{ field: 'status', problem: 'archived' }]);
      const row = definition === undefined ? await this.repository.rename(tx, key, body.name as string) : await this.repository.addVersion(tx, key, definition, actor, body.name);
      if (definition !== undefined) await this.announceReferences(tx, row, journeySegmentKeys(definition), row.version);
      return journeyView(row, (await this.repository.version(key, row.version, tx)) as JourneyVersionRow);
    });
  }

  async changeStatus(key: string, status: JourneyStatus) {
    return this.saving(async (tx) => {
      const current = await this.locked(tx, key);
      if (current.status === status) return journeyView(current, (await this.repository.version(key, current.version, tx)) as JourneyVersionRow);
      if (!MOVES[current.status].includes(status))
        throw new InvalidStateError(`Journey ${key} cannot go from ${current.status} to ${status} (allowed: ${MOVES[current.status].join(', ') || 'none, it is final'})`, [
          { field: 'status', problem: `not allowed from ${current.status}` },
        ]);
      const row = await this.repository.setStatus(tx, key, status);
      if (status === 'archived') {
        await this.runs.endAllOf(tx, key, 'journey archived', new Date());
        // One revision past the last version: segmentation drops the journey's references.
        await this.announceReferences(tx, row, [], row.version + 1);
      }
      return journeyView(row, (await this.repository.version(key, row.version, tx)) as JourneyVersionRow);
    });
  }

  /** A change in a transaction, then the outbox relay woken for what it wrote. */
  private async saving<T>(work: (tx: OffersTx) => Promise<T>): Promise<T> {
    const result = await this.repository.transaction(work);
    this.outbox.wake();
    return result;
  }

  /** offers.segment-references for the journey, in its change's transaction (ADR 12): segmentation keeps its segments. */
  private async announceReferences(tx: OffersTx, row: JourneyRow, segmentKeys: string[], revision: number): Promise<void> {
    const data: SegmentReferencesV1 = { service: 'offers', ownerKind: 'journey', ownerId: row.key, ownerName: row.name, segmentKeys, revision };
    await this.outbox.write(tx, [
      {
        subject: SUBJECTS.offersSegmentReferences,
        envelope: createEnvelope(SUBJECTS.offersSegmentReferences, data, { id: `journey-${row.key}-references-r${revision}` }),
        partitionKey: row.key,
      },
    ]);
  }

  private async locked(tx: OffersTx, key: string): Promise<JourneyRow> {
    const row = OFFER_KEY.test(key) ? await this.repository.lock(tx, key) : undefined;
    if (!row) throw new NotFoundError(`No journey ${key}`, [{ field: 'key', problem: 'not found' }]);
    return row;
  }

  /** Its enrollments with the steps each ran (sent, skipped and why, waited until, branch taken), newest first. */
  async enrollments(key: string, query: ListEnrollmentsQueryDto) {
    await this.get(key);
    if (query.cursor !== undefined && !isUuid(query.cursor)) throw ValidationFailedError.of([{ field: 'cursor', problem: 'must be the nextCursor of an earlier page' }]);
    const limit = query.limit ?? 50;
    const rows = await this.runs.enrollments(key, { profileId: query.profileId, limit: limit + 1, before: query.cursor });
    const page = rows.slice(0, limit);
    return { enrollments: page, nextCursor: rows.length > limit ? page[page.length - 1].id : null };
  }

  /** Its deliveries with every attempt, newest first, cursor-paginated by id. */
  async deliveries(key: string, query: ListDeliveriesQueryDto) {
    await this.get(key);
    if (query.cursor !== undefined && !isUuid(query.cursor)) throw ValidationFailedError.of([{ field: 'cursor', problem: 'must be the nextCursor of an earlier page' }]);
    const limit = query.limit ?? 50;
    const rows = await this.runs.deliveries(key, { profileId: query.profileId, status: query.status, limit: limit + 1, before: query.cursor });
    const page = rows.slice(0, limit);
    return { deliveries: page, nextCursor: rows.length > limit ? page[page.length - 1].id : null };
  }

  /**
   * How the journey is doing, overall and per step: entered, running, completed, exited and
   * converted; per step how many were sent, delivered, failed, skipped (by a cap or otherwise),
   * waited, branched and are at the step now.
   */
  async report(key: string) {
    const journey = await this.get(key);
    const data = await this.runs.report(key);
    const enrollments = Object.fromEntries(data.enrollments.map((r) => [r.status, r.count]));
    const total = (status: string) => enrollments[status] ?? 0;
    // The current version's steps first, then steps only older versions have (customers may still be on them).
    const steps = (await this.repository.versions(key)).flatMap((v) => v.definition.steps);
    const stepIds = [...new Set(steps.map((s) => s.id))];
    const types = new Map(steps.reverse().map((s) => [s.id, s.type]));
    const runs = (step: string, outcome: string, kind?: string) =>
      data.runs.filter((r) => r.step_id === step && r.outcome === outcome && (kind === undefined || r.detail_kind === kind)).reduce((sum, r) => sum + r.count, 0);
    const deliveries = (step: string, status: string) => data.deliveries.find((r) => r.step_id === step && r.status === status)?.count ?? 0;
    return {
      key,
      version: journey.version,
      status: journey.status,
      entered: data.enrollments.reduce((sum, r) => sum + r.count, 0),
      active: total('active'),
      completed: total('completed'),
      exited: total('exited'),
      converted: total('converted'),
      steps: stepIds.map((id) => ({
        id,
        type: types.get(id) ?? null,
        atStepNow: data.waiting.find((w) => w.step_id === id)?.count ?? 0,
        waited: runs(id, 'waited'),
        sent: runs(id, 'sent'),
        delivered: deliveries(id, 'delivered'),
        pending: deliveries(id, 'pending'),
        failed: deliveries(id, 'failed'),
        skippedByCap: runs(id, 'skipped', 'cap'),
        skippedOther: runs(id, 'skipped', ''),
        branched: runs(id, 'branched') + runs(id, 'split'),
      })),
    };
  }
}
