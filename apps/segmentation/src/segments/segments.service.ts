import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConflictError, NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import { SUBJECTS, type ApiErrorDetail, type SegmentChangedV1, type SegmentKind } from '@segmenta/contracts';
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { compileMembersQuery, extractDependencies, findMembershipCycle, formatProblem, validateDefinition, type SegmentDefinition } from '@segmenta/segment-rules';
import { SegmentationConfig } from '../config';
import { Clock } from '../membership/clock';
import { MembershipService, READ_MODEL_TABLES, type RecomputeSummary } from '../membership/membership.service';
import type { CreateSegmentDto, SegmentResponse, UpdateSegmentDto } from './segments.dto';
import { dependenciesOf, isRuleSegment } from './segment-kinds';
import { SegmentCatalog } from './segment-catalog.service';
import { SegmentsRepository, type SegmentRow, type SegmentsTx } from './segments.repository';
import { SegmentReferencesRepository } from '../references/segment-references.repository';

const badRequest = (message: string, details: ApiErrorDetail[]) => new ValidationFailedError(message, details);

/** Segment CRUD with versioning, preview, members, the change log and freshness. */
@Injectable()
export class SegmentsService {
  constructor(
    private readonly repository: SegmentsRepository,
    private readonly catalog: SegmentCatalog,
    private readonly memberships: MembershipService,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly config: SegmentationConfig,
    private readonly references: SegmentReferencesRepository,
  ) {}

  async list(): Promise<SegmentResponse[]> {
    const [rows, sizes] = await Promise.all([this.repository.all(), this.repository.sizes()]);
    return rows.map((row) => this.toResponse(row, sizes.get(row.id) ?? 0));
  }

  async get(idOrKey: string): Promise<SegmentResponse> {
    const row = await this.find(idOrKey);
    const [size, usedBy] = await Promise.all([this.repository.size(row.id), this.references.usersOf(row.key)]);
    return { ...this.toResponse(row, size), usedBy };
  }

  async find(idOrKey: string): Promise<SegmentRow> {
    const row = await this.repository.byIdOrKey(idOrKey);
    if (!row) throw new NotFoundError(`No segment "${idOrKey}"`, [{ field: 'id', problem: 'not found' }]);
    return row;
  }

  /** Validates the definition, its segment references and their cycles; 400 naming each problem's path. */
  async checkedDefinition(input: unknown, ownKey?: string): Promise<SegmentDefinition> {
    const result = validateDefinition(input);
    if (!result.ok) {
      throw badRequest(
        `Invalid definition: ${result.problems.map(formatProblem).join('; ')}`,
        result.problems.map((p) => ({ field: p.path ? `definition.${p.path}` : 'definition', problem: p.problem })),
      );
    }
    const refs = extractDependencies(result.definition).segments;
    const rows = await this.repository.all();
    const known = new Set(rows.map((r) => r.key));
    const missing = refs.filter((k) => !known.has(k) && k !== ownKey);
    if (missing.length > 0)
      throw badRequest(
        `Invalid definition: inSegment refers to unknown segment ${missing.map((k) => `"${k}"`).join(', ')}`,
        missing.map((k) => ({ field: 'definition', problem: `inSegment "${k}" does not exist` })),
      );
    if (ownKey) {
      const graph = new Map(rows.map((r) => [r.key, dependenciesOf(r).segments]));
      graph.set(ownKey, refs);
      const cycle = findMembershipCycle(graph);
      if (cycle) throw badRequest(`Invalid definition: segments would depend on themselves: ${cycle.join(' → ')}`, [{ field: 'definition', problem: `inSegment cycle ${cycle.join(' → ')}` }]);
    }
    return result.definition;
  }

  async create(body: CreateSegmentDto, kind: SegmentKind = body.kind ?? 'rule'): Promise<SegmentResponse & { evaluation: RecomputeSummary }> {
    const definition = await this.checkedDefinition(body.definition, body.key);
    const row = await this.repository.transaction(async (tx) => {
      const inserted = await this.repository.insert({ id: randomUUID(), key: body.key, name: body.name, description: body.description ?? null, kind, definition, version: 1 }, tx);
      if (inserted) await this.announce(tx, [{ row: inserted, status: 'active' }]);
      return inserted;
    });
    if (!row) throw new ConflictError(`A segment with key "${body.key}" exists`, [{ field: 'key', problem: 'already exists' }]);
    this.catalog.invalidate();
    this.outbox.wake();
    const evaluation = await this.memberships.recompute([row.id]);
    return { ...(await this.get(row.id)), evaluation };
  }

  async update(idOrKey: string, body: UpdateSegmentDto): Promise<SegmentResponse & { evaluation?: RecomputeSummary }> {
    const row = await this.find(idOrKey);
    if (!isRuleSegment(row) && body.definition !== undefined)
      throw badRequest(`Segment "${row.key}" is a discovered cluster: discovery sets its members, it has no rule to edit`, [{ field: 'definition', problem: 'not editable on a discovered cluster' }]);
    const definition = body.definition !== undefined ? await this.checkedDefinition(body.definition, row.key) : undefined;
    const changedDefinition = definition !== undefined && JSON.stringify(definition) !== JSON.stringify(row.definition);
    const updated = await this.repository.transaction(async (tx) => {
      const saved = await this.repository.update(
        row.id,
        {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.status !== undefined ? { status: body.status } : {}),
          ...(changedDefinition ? { definition, version: row.version + 1 } : {}),
        },
        tx,
      );
      await this.announce(tx, [{ row: saved, status: saved.status }]);
      return saved;
    });
    this.catalog.invalidate();
    this.outbox.wake();
    // A new definition, or a segment resumed: evaluate now and emit the differences.
    const evaluation = updated.status === 'active' && (changedDefinition || row.status !== 'active') ? await this.memberships.recompute([row.id]) : undefined;
    return { ...(await this.get(row.id)), ...(evaluation ? { evaluation } : {}) };
  }

  async delete(idOrKey: string): Promise<{ deleted: true; key: string }> {
    const row = await this.find(idOrKey);
    const dependents = (await this.repository.all()).filter((r) => r.id !== row.id && dependenciesOf(r).segments.includes(row.key));
    if (dependents.length > 0) {
      throw new ConflictError(
        `Segment "${row.key}" is used by segment${dependents.length > 1 ? 's' : ''} ${dependents.map((d) => `"${d.key}"`).join(', ')}; change or delete ${dependents.length > 1 ? 'them' : 'it'} first`,
        dependents.map((d) => ({ field: 'id', problem: `used by segment ${d.key}` })),
      );
    }
    const users = await this.references.usersOf(row.key);
    if (users.length > 0) {
      const named = users.map((u) => `${u.ownerKind} "${u.ownerName}" (${u.service})`);
      throw new ConflictError(
        `Segment "${row.key}" is targeted by ${named.join(', ')}; remove it from ${users.length > 1 ? 'them' : 'it'} or pause the segment instead`,
        users.map((u) => ({ field: 'id', problem: `used by ${u.service} ${u.ownerKind} ${u.ownerId}` })),
      );
    }
    await this.repository.transaction(async (tx) => {
      await this.repository.delete(row.id, tx);
      await this.announce(tx, [{ row, status: 'deleted' }]);
    });
    this.catalog.invalidate();
    this.outbox.wake();
    return { deleted: true, key: row.key };
  }

  /** Count and a sample of who a definition selects now, without saving anything. */
  async preview(input: unknown, sample: number): Promise<{ count: number; sample: Array<{ profileId: string; userId?: string; email?: string }>; totalProfiles: number }> {
    const definition = await this.checkedDefinition(input);
    const catalog = await this.catalog.current();
    const query = compileMembersQuery(definition, { tables: READ_MODEL_TABLES, now: this.clock.now(), segmentId: (key) => catalog.idByKey.get(key) });
    return this.repository.preview(query, sample);
  }

  /** segments.changed for other services (offers, experiments), into the outbox in the change's transaction; wake the outbox after the commit. */
  async announce(tx: SegmentsTx, changes: Array<{ row: SegmentRow; status: SegmentChangedV1['status'] }>): Promise<void> {
    const at = new Date().toISOString();
    await this.outbox.write(
      tx,
      changes.map(({ row, status }) => {
        const data: SegmentChangedV1 = { segmentId: row.id, key: row.key, name: row.name, kind: row.kind, version: row.version, status, at };
        return {
          subject: SUBJECTS.segmentsChanged,
          envelope: createEnvelope(SUBJECTS.segmentsChanged, data, { id: `segment-${row.id}-v${row.version}-${status}-${row.updatedAt.getTime()}` }),
          partitionKey: row.id,
        };
      }),
    );
  }

  toResponse(row: SegmentRow, size: number): SegmentResponse {
    const timeBased = dependenciesOf(row).timeDependent;
    const evaluatedAt = row.evaluatedAt ? row.evaluatedAt.toISOString() : null;
    return {
      id: row.id,
      key: row.key,
      name: row.name,
      description: row.description,
      kind: row.kind,
      status: row.status,
      version: row.version,
      definition: row.definition,
      ...(row.persona ? { persona: row.persona } : {}),
      size,
      freshness: {
        evaluatedAt,
        secondsSinceEvaluation: row.evaluatedAt ? Math.max(0, Math.round((this.clock.now() - row.evaluatedAt.getTime()) / 1000)) : null,
        target: !isRuleSegment(row) ? 'discovery' : timeBased ? 'scheduled' : 'real-time',
        schedule: isRuleSegment(row) ? this.config.SEGMENTS_RECOMPUTE_CRON : this.config.SEGMENTS_DISCOVER_CRON,
      },
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}
