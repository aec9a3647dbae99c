import { Injectable } from '@nestjs/common';
import { ConflictError, InvalidStateError, NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import type { OffersTx } from '../catalog/offers.repository';
import { OFFER_KEY } from '../catalog/offers.dto';
import { validateJourneyDefinition, type JourneyDefinition } from './journey-definition';
import type { CreateJourneyDto, ListJourneysQueryDto, UpdateJourneyDto } from './journeys.dto';
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
  constructor(private readonly repository: JourneysRepository) {}

  async create(body: CreateJourneyDto, actor: string) {
    const definition = checkedDefinition(body.definition);
    return this.repository.transaction(async (tx) => {
      const row = await this.repository.create(tx, { key: body.key, name: body.name, definition, actor });
      if (!row) throw new ConflictError(`A journey ${body.key} exists`, [{ field: 'key', problem: 'is taken' }]);
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
    return this.repository.transaction(async (tx) => {
      const current = await this.locked(tx, key);
      if (current.status === 'archived') throw new InvalidStateError(`Journey ${key} is archived; archived journeys are final`, [{ field: 'status', problem: 'archived' }]);
      const row = definition === undefined ? await this.repository.rename(tx, key, body.name as string) : await this.repository.addVersion(tx, key, definition, actor, body.name);
      return journeyView(row, (await this.repository.version(key, row.version, tx)) as JourneyVersionRow);
    });
  }

  async changeStatus(key: string, status: JourneyStatus) {
    return this.repository.transaction(async (tx) => {
      const current = await this.locked(tx, key);
      if (current.status === status) return journeyView(current, (await this.repository.version(key, current.version, tx)) as JourneyVersionRow);
      if (!MOVES[current.status].includes(status))
        throw new InvalidStateError(`Journey ${key} cannot go from ${current.status} to ${status} (allowed: ${MOVES[current.status].join(', ') || 'none, it is final'})`, [
          { field: 'status', problem: `not allowed from ${current.status}` },
        ]);
      const row = await this.repository.setStatus(tx, key, status);
      return journeyView(row, (await this.repository.version(key, row.version, tx)) as JourneyVersionRow);
    });
  }

  private async locked(tx: OffersTx, key: string): Promise<JourneyRow> {
    const row = OFFER_KEY.test(key) ? await this.repository.lock(tx, key) : undefined;
    if (!row) throw new NotFoundError(`No journey ${key}`, [{ field: 'key', problem: 'not found' }]);
    return row;
  }
}
