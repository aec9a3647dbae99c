import { Injectable, Logger } from '@nestjs/common';
import { SUBJECTS, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { compiledSql, withTransaction } from '@segmenta/persistence';
import { compileFactsCrossing, compileMembershipMatrix, timeBoundaries, type SqlContext, type TimeBoundary } from '@segmenta/segment-rules';
import { SegmentationConfig } from '../config';
import { SegmentCatalog, type Catalog, type CompiledSegment } from '../segments/segment-catalog.service';
import { Clock } from './clock';
import { MASK_BITS, MembershipRepository, PROFILE_PARTITIONS, READ_MODEL_TABLES, partitionTables, type MembershipChange, type RecordedChange, type Tx } from './membership.repository';

export { READ_MODEL_TABLES };

/** What an update changed for one profile: only segments reading one of these are re-evaluated. */
export interface ProfileTouch {
  traits: Set<string>;
  features: Set<string>;
  events: Set<string>;
  /** A new or merged profile, or a full republish: every segment. */
  all: boolean;
}

export const emptyTouch = (): ProfileTouch => ({ traits: new Set(), features: new Set(), events: new Set(), all: false });

export interface RecomputeSummary {
  /** `full`: every profile; `since-last`: only profiles time could have changed since each segment's last evaluation. */
  mode: 'full' | 'since-last';
  segments: number;
  profiles: number;
  /** Profiles evaluated (in `since-last`, those with a fact that crossed a window or age boundary). */
  evaluated: number;
  entered: number;
  exited: number;
  ms: number;
}

/** How one group of segments is evaluated: over every profile, over those with a fact crossing a boundary since `from`, or not at all. */
type GroupScope = { kind: 'all' } | { kind: 'crossing'; boundaries: TimeBoundary[]; from: number } | { kind: 'none' };

/** The temp table of a since-last recompute's candidate profiles (per connection, dropped on commit). */
const CANDIDATES_TABLE = 'recompute_candidates';

function affects(segment: CompiledSegment, touch: ProfileTouch, changedSegmentKeys: Set<string>): boolean {
  if (touch.all) return true;
  const d = segment.dependencies;
  return d.traits.some((t) => touch.traits.has(t)) || d.features.some((f) => touch.features.has(f)) || d.events.some((e) => touch.events.has(e)) || d.segments.some((s) => changedSegmentKeys.has(s));
}

/**
 * Segment membership, in real time (one profile at a time, compiled closures, only the segments an
 * update can affect) and in bulk (every profile, one SQL statement per dependency level). Both
 * write the memberships, the numbered change log and the segments.entered/exited messages (into
 * the outbox) in the caller's transaction.
 */
@Injectable()
export class MembershipService {
  private readonly logger = new Logger(MembershipService.name);

  constructor(
    private readonly repository: MembershipRepository,
    private readonly catalog: SegmentCatalog,
    private readonly clock: Clock,
    private readonly outbox: Outbox,
    private readonly config: SegmentationConfig,
  ) {}

  /** The active segments, compiled; load before a transaction that evaluates. */
  catalogNow(): Promise<Catalog> {
    return this.catalog.current();
  }

  /**
   * Re-evaluates the touched profiles (locked by the caller) and records the differences;
   * `viewsWritten` names the profiles whose view rows the caller's transaction already wrote.
   * `catalog` is loaded before the transaction: on PGlite (one connection) a read outside it would wait for it forever.
   */
  async evaluateProfiles(tx: Tx, touched: Map<string, ProfileTouch>, catalog: Catalog, viewsWritten?: ReadonlySet<string>): Promise<RecordedChange[]> {
    if (touched.size === 0) return [];
    const now = this.clock.now();
    const stored = await this.repository.snapshots(tx, [...touched.keys()], viewsWritten);
    const changes: MembershipChange[] = [];
    for (const [profileId, touch] of touched) {
      const profile = stored.get(profileId);
      if (!profile) continue; // not in the view (yet, or erased)
      const keys = new Set([...profile.segmentIds].map((id) => catalog.keyById.get(id)).filter((k): k is string => k !== undefined));
      const snapshot = { traits: profile.traits, features: profile.features, facts: profile.facts, segments: keys };
      const changedKeys = new Set<string>();
      for (const segment of catalog.active) {
        if (!affects(segment, touch, changedKeys)) continue;
        const member = segment.predicate(snapshot, now);
        if (member === keys.has(segment.key)) continue;
        changes.push({ segmentId: segment.id, profileId, change: member ? 'entered' : 'exited', segmentVersion: segment.version });
        changedKeys.add(segment.key);
        if (member) keys.add(segment.key);
        else keys.delete(segment.key);
      }
    }
    return this.recordAndAnnounce(tx, changes, new Date(now), catalog);
  }

  /** Every membership of the profiles leaves (erasure, merged away), recorded as exits. */
  async exitAll(tx: Tx, profileIds: string[], catalog: Pick<Catalog, 'keyById'>): Promise<RecordedChange[]> {
    if (profileIds.length === 0) return [];
    const members = await this.repository.membershipsOf(tx, profileIds);
    return this.recordAndAnnounce(
      tx,
      members.map((m) => ({ segmentId: m.segment_id, profileId: m.profile_id, change: 'exited' as const, segmentVersion: m.version })),
      new Date(this.clock.now()),
      catalog,
    );
  }

  /**
   * Evaluates segments with SQL and records the differences from the stored memberships,
   * partition by partition on SEGMENTS_RECOMPUTE_CONCURRENCY connections, each partition's groups
   * in transactions of their own. Segments that read others (`inSegment`) run after them, level by
   * level, so they see the memberships just computed; a profile's memberships live in its own
   * partition, so partitions need not wait for each other.
   *
   * `full` (and any recompute of chosen segments, whose definitions changed) evaluates every
   * profile. Otherwise (ADR 19) only what time alone can have changed since each segment's last
   * evaluation: real-time batches evaluate every profile an event or update touches, and the
   * retention purge those whose facts it removes, so between two recomputes a membership can only
   * change because a fact crossed a `within` window or a `first`/`last` age. Only profiles with
   * such a fact are evaluated; a segment that time cannot change (nor any segment it reads) is
   * skipped, and a segment never evaluated before is evaluated in full.
   */
  async recompute(segmentIds?: string[], options: { full?: boolean } = {}): Promise<RecomputeSummary> {
    const started = Date.now();
    const catalog = await this.catalog.current();
    const wanted = segmentIds ? new Set(segmentIds) : undefined;
    const levels = dependencyLevels(catalog, wanted);
    const groups = levels.flatMap((level) => chunk(level, MASK_BITS));
    const now = this.clock.now();
    const at = new Date(now);
    const database = this.repository.database;
    const full = options.full === true || segmentIds !== undefined;
    const scopes: GroupScope[] = full ? groups.map(() => ({ kind: 'all' })) : await this.sinceLastScopes(groups, catalog);
    const context = (partition: number): SqlContext => ({ tables: partitionTables(partition), now, segmentId: (key) => catalog.idByKey.get(key) });
    // PGlite is one connection: its transactions cannot overlap.
    const concurrency = database.driver === 'pglite' ? 1 : this.config.SEGMENTS_RECOMPUTE_CONCURRENCY;
    let entered = 0;
    let exited = 0;
    let evaluated = 0;
    await forEachConcurrently(
      Array.from({ length: PROFILE_PARTITIONS }, (_, partition) => partition),
      concurrency,
      async (partition) => {
        for (const [i, group] of groups.entries()) {
          const scope = scopes[i];
          if (scope.kind === 'none') continue;
          const groupStarted = performance.now();
          let candidates = 0;
          const changes = await withTransaction(database.db, async (tx) => {
            let onlyProfiles: string | undefined;
            if (scope.kind === 'crossing') {
              const crossing = compileFactsCrossing(scope.boundaries, partitionTables(partition).behaviourFacts, scope.from, now) as { text: string; values: unknown[] };
              candidates = await this.repository.createCandidates(tx, CANDIDATES_TABLE, compiledSql(crossing.text, crossing.values));
              if (candidates === 0) return [];
              onlyProfiles = CANDIDATES_TABLE;
            }
            const matrix = compileMembershipMatrix(
              group.map((s) => s.definition),
              context(partition),
              { rowVersion: true, onlyProfiles },
            );
            const applied = await this.repository.applyMatrix(
              tx,
              partition,
              compiledSql(matrix.text, matrix.values),
              group.map((s) => ({ id: s.id, version: s.version })),
              at,
              { workMem: this.config.SEGMENTS_RECOMPUTE_WORK_MEM, parallel: concurrency === 1, onlyProfiles },
            );
            await this.announce(tx, applied, catalog);
            return applied;
          });
          if (changes.length > 0) this.announced();
          evaluated += candidates;
          this.logger.debug(
            `recompute: partition ${partition}, ${group.length} segments (${scope.kind}, ${candidates} candidates): ${changes.length} changes in ${(performance.now() - groupStarted).toFixed(0)} ms`,
          );
          for (const c of changes) {
            if (c.change === 'entered') entered += 1;
            else exited += 1;
          }
        }
      },
    );
    await this.repository.markEvaluated(
      database.db,
      groups.flat().map((s) => s.id),
      at,
    );
    const profiles = await this.repository.profileCount(database.db);
    if (scopes.every((scope) => scope.kind === 'all')) evaluated = profiles;
    return { mode: full ? 'full' : 'since-last', segments: groups.reduce((n, g) => n + g.length, 0), profiles, evaluated, entered, exited, ms: Date.now() - started };
  }

  /**
   * Per group: the boundaries of its segments and of every segment they read (a membership that
   * time changes changes theirs), from the earliest last evaluation among them; a group with a
   * segment never evaluated is evaluated in full, one time cannot change is skipped.
   */
  private async sinceLastScopes(groups: CompiledSegment[][], catalog: Catalog): Promise<GroupScope[]> {
    const evaluatedAt = await this.repository.evaluatedAt(this.repository.database.db);
    const byKey = new Map(catalog.active.map((s) => [s.key, s]));
    const reach = (segment: CompiledSegment, seen = new Set<string>()): CompiledSegment[] => {
      if (seen.has(segment.key)) return [];
      seen.add(segment.key);
      return [segment, ...segment.dependencies.segments.flatMap((key) => (byKey.has(key) ? reach(byKey.get(key) as CompiledSegment, seen) : []))];
    };
    return groups.map((group): GroupScope => {
      const involved = [...new Map(group.flatMap((s) => reach(s)).map((s) => [s.id, s])).values()];
      const times = involved.map((s) => evaluatedAt.get(s.id));
      if (times.some((t) => t === undefined)) return { kind: 'all' };
      const boundaries = [...new Map(involved.flatMap((s) => timeBoundaries(s.definition)).map((b) => [JSON.stringify(b), b])).values()];
      if (boundaries.length === 0) return { kind: 'none' };
      return { kind: 'crossing', boundaries, from: Math.min(...(times as number[])) };
    });
  }

  /**
   * Records changes and writes their segments.entered/exited messages into the outbox, in the
   * caller's transaction (ADR 12); call `announced()` after the commit.
   */
  async recordAndAnnounce(tx: Tx, changes: MembershipChange[], at: Date, catalog: Pick<Catalog, 'keyById'>): Promise<RecordedChange[]> {
    const recorded = await this.repository.record(tx, changes, at);
    await this.announce(tx, recorded, catalog);
    return recorded;
  }

  /** Wakes the outbox relay after a commit that recorded changes. */
  announced(): void {
    this.outbox.wake();
  }

  private async announce(tx: Tx, changes: RecordedChange[], catalog: Pick<Catalog, 'keyById'>): Promise<void> {
    await this.outbox.write(
      tx,
      changes.map((c) => {
        const data: SegmentMembershipChangedV1 = {
          seq: c.seq,
          segmentId: c.segmentId,
          segmentKey: catalog.keyById.get(c.segmentId) ?? '',
          segmentVersion: c.segmentVersion,
          profileId: c.profileId,
          change: c.change,
          at: c.at,
        };
        const subject = c.change === 'entered' ? SUBJECTS.segmentsEntered : SUBJECTS.segmentsExited;
        return { subject, envelope: createEnvelope(subject, data, { id: `segment-change-${c.seq}`, occurredAt: new Date(c.at) }), partitionKey: c.profileId };
      }),
    );
  }
}

/** Active segments grouped so that each group reads only memberships of earlier groups. */
function dependencyLevels(catalog: Catalog, wanted?: Set<string>): CompiledSegment[][] {
  const level = new Map<string, number>();
  const byKey = new Map(catalog.active.map((s) => [s.key, s]));
  for (const segment of catalog.active) {
    // catalog.active is in evaluation order: dependencies have their level already.
    const deps = segment.dependencies.segments.map((k) => (byKey.has(k) ? (level.get(k) ?? 0) + 1 : 0));
    level.set(segment.key, Math.max(0, ...deps));
  }
  const levels: CompiledSegment[][] = [];
  for (const segment of catalog.active) {
    if (wanted && !wanted.has(segment.id)) continue;
    const l = level.get(segment.key) ?? 0;
    (levels[l] ??= []).push(segment);
  }
  return levels.filter((l) => l && l.length > 0);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Runs `work` over `items` with at most `concurrency` at a time; the first failure stops taking new items. */
async function forEachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}
