import { Inject, Injectable } from '@nestjs/common';
import { sql, type SQL } from 'drizzle-orm';
import { DATABASE, anyOf, jsonParam, queryRows, type Database, type Db } from '@segmenta/persistence';
import type { BehaviourFact, SqlContext } from '@segmenta/segment-rules';
import type * as tables from '../db/schema';

export type Tx = Pick<Db, 'execute'>;

export interface StoredProfile {
  traits: Record<string, unknown>;
  features: Record<string, unknown>;
  facts: BehaviourFact[];
  /** Ids of the segments the profile is a member of. */
  segmentIds: Set<string>;
}

export interface MembershipChange {
  segmentId: string;
  profileId: string;
  change: 'entered' | 'exited';
  segmentVersion: number;
}

export interface RecordedChange extends MembershipChange {
  seq: number;
  at: string;
}

/** Segments evaluated per statement of a recompute: one bit each in an int8 mask. */
export const MASK_BITS = 62;

/** profile_view, behaviour_facts and memberships are hash-partitioned by profile id into this many partitions (migration 0004). */
export const PROFILE_PARTITIONS = 8;

/** Advisory lock class (with the partition number) of a partition: real-time batches hold it shared, a recompute applying to it exclusively. */
const PARTITION_LOCK_CLASS = 0x5e6;

/** The parent tables, which route to the partitions. */
export const READ_MODEL_TABLES: SqlContext['tables'] = {
  profileView: 'segmentation.profile_view',
  behaviourFacts: 'segmentation.behaviour_facts',
  memberships: 'segmentation.memberships',
};

/** One partition's tables: the profiles whose id hashes to `partition`, their facts and memberships. */
export function partitionTables(partition: number): SqlContext['tables'] {
  if (!Number.isInteger(partition) || partition < 0 || partition >= PROFILE_PARTITIONS) throw new Error(`no partition ${partition}`);
  return { profileView: `segmentation.profile_view_p${partition}`, behaviourFacts: `segmentation.behaviour_facts_p${partition}`, memberships: `segmentation.memberships_p${partition}` };
}

/** Memberships, their change log (also the outbox of segments.entered/exited) and profile snapshots. */
@Injectable()
export class MembershipRepository {
  constructor(@Inject(DATABASE) readonly database: Database<typeof tables>) {}

  /**
   * Serialises work on the same profiles across batches and replicas (fixed order: no deadlock),
   * after holding their partitions shared: a recompute applying to a partition holds it exclusively.
   */
  async lockProfiles(tx: Tx, profileIds: Iterable<string>): Promise<void> {
    const keys = [...new Set(profileIds)];
    if (keys.length === 0) return;
    const list = jsonParam(keys);
    // The uncorrelated subquery runs once, before the first profile lock is taken.
    // Hand-written for `npm run bench -- --only=segmentation` (real time): a batch's locks in one statement.
    await tx.execute(sql`select count(pg_advisory_xact_lock(k)) from (select distinct hashtextextended(v, 11) as k from json_array_elements_text(${list}::json) v order by 1) s
      where (select count(pg_advisory_xact_lock_shared(${PARTITION_LOCK_CLASS}::int, p)) from (select distinct p from json_array_elements_text(${list}::json) v, generate_series(0, ${PROFILE_PARTITIONS - 1}::int) p
        where satisfies_hash_partition('segmentation.profile_view'::regclass, ${PROFILE_PARTITIONS}::int, p, v::uuid) order by 1) x) >= 0`);
  }

  /** What the in-memory evaluator needs of each (locked) profile: view, facts and current memberships; `viewsWritten`: rows this transaction already wrote. */
  async snapshots(tx: Tx, profileIds: string[], viewsWritten: ReadonlySet<string> = new Set()): Promise<Map<string, StoredProfile>> {
    const result = new Map<string, StoredProfile>();
    if (profileIds.length === 0) return result;
    // Touching the view rows gives them a new version: a recompute that evaluated them earlier
    // leaves them alone (applyMatrix). Rows this transaction wrote have one already.
    const untouched = profileIds.filter((id) => !viewsWritten.has(id));
    // Hand-written for `npm run bench -- --only=segmentation` (real time): one statement per batch.
    if (untouched.length > 0) await tx.execute(sql`update segmentation.profile_view set updated_at = updated_at where profile_id = ${anyOf(untouched, 'uuid')}`);
    // One round trip: each profile's view, facts and memberships together.
    // Hand-written for `npm run bench -- --only=segmentation` (real time): view, facts and memberships in one round trip.
    const rows = await queryRows<{
      profile_id: string;
      traits: Record<string, unknown>;
      features: Record<string, unknown>;
      facts: Array<{ name: string; props: Record<string, unknown>; at: string }> | null;
      segment_ids: string[] | null;
    }>(
      tx,
      sql`select p.profile_id, p.traits, p.features,
          (select json_agg(json_build_object('name', f.name, 'props', f.props, 'at', f.occurred_at)) from segmentation.behaviour_facts f where f.profile_id = p.profile_id) as facts,
          (select json_agg(m.segment_id) from segmentation.memberships m where m.profile_id = p.profile_id) as segment_ids
        from segmentation.profile_view p where p.profile_id = ${anyOf(profileIds, 'uuid')}`,
    );
    for (const r of rows) {
      result.set(r.profile_id, {
        traits: r.traits,
        features: r.features,
        facts: (r.facts ?? []).map((f) => ({ name: f.name, props: f.props, at: Date.parse(f.at) })),
        segmentIds: new Set(r.segment_ids ?? []),
      });
    }
    return result;
  }

  /** Applies changes to the memberships and appends them to the log, in order; returns them numbered. */
  async record(tx: Tx, changes: MembershipChange[], at: Date): Promise<RecordedChange[]> {
    if (changes.length === 0) return [];
    const rows = jsonParam(changes.map((c) => ({ segment_id: c.segmentId, profile_id: c.profileId, change: c.change, segment_version: c.segmentVersion })));
    const iso = at.toISOString();
    // One round trip: each (segment, profile) appears once, so the writes never touch the same row.
    // Only what was applied is logged: a change a concurrent recompute already made is not logged twice.
    // The exits also name their profiles through anyOf, so the delete probes the index instead of
    // hash-joining the whole memberships table with the (unestimated) record set.
    // Hand-written for `npm run bench -- --only=segmentation` (real time): one JSON parameter per batch.
    const logged = await queryRows<{ seq: string | number; segment_id: string; profile_id: string; change: 'entered' | 'exited'; segment_version: number }>(
      tx,
      sql`with x as (select * from rows from (json_to_recordset(${rows}::json) as (segment_id uuid, profile_id uuid, change text, segment_version int)) with ordinality as x(segment_id, profile_id, change, segment_version, n)),
        ins as (insert into segmentation.memberships (segment_id, profile_id, since) select segment_id, profile_id, ${iso}::timestamptz from x where change = 'entered' on conflict do nothing returning segment_id, profile_id),
        del as (delete from segmentation.memberships m using x where x.change = 'exited' and m.segment_id = x.segment_id and m.profile_id = x.profile_id
          and m.profile_id = ${anyOf(new Set(changes.filter((c) => c.change === 'exited').map((c) => c.profileId)), 'uuid')} returning m.segment_id, m.profile_id),
        applied as (select segment_id, profile_id from ins union all select segment_id, profile_id from del)
        insert into segmentation.membership_changes (segment_id, profile_id, change, segment_version, at)
        select x.segment_id, x.profile_id, x.change, x.segment_version, ${iso}::timestamptz from x join applied a using (segment_id, profile_id) order by x.n
        returning seq, segment_id, profile_id, change, segment_version`,
    );
    return logged.map((r) => ({ seq: Number(r.seq), segmentId: r.segment_id, profileId: r.profile_id, change: r.change, segmentVersion: r.segment_version, at: iso })).sort((a, b) => a.seq - b.seq);
  }

  /** How many profiles the read model holds (a recompute's summary). */
  async profileCount(tx: Tx): Promise<number> {
    // Hand-written like the rest of this repository's statements, which take `Tx` (anything with `execute`): `npm run bench -- --only=segmentation` (recompute).
    const [row] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from segmentation.profile_view`);
    return row.n;
  }

  /**
   * One group of a full recompute (at most 62 segments of one dependency level) over one
   * partition, set-based. `matrix` (profile_id, row_version, s0..sN for `segments` in order) becomes
   * one bit mask per profile, compared in the same statement with the mask of its memberships;
   * only profiles whose masks differ are kept. Then, holding the partition exclusively, those are
   * unpacked into entered/exited changes, applied and appended to the log. A profile a real-time
   * batch evaluated since the matrix was read (its view row has a newer version, and only such a
   * batch changes a profile's memberships) is left alone: that batch's decision is newer. Only the
   * changes come back to Node, so a recompute that changes little moves little.
   */
  async applyMatrix(
    tx: Tx,
    partition: number,
    matrix: SQL,
    segments: Array<{ id: string; version: number }>,
    at: Date,
    settings: { workMem: string; parallel: boolean; onlyProfiles?: string },
  ): Promise<RecordedChange[]> {
    if (segments.length === 0) return [];
    if (segments.length > MASK_BITS) throw new Error(`applyMatrix takes at most ${MASK_BITS} segments at once`);
    const tables = partitionTables(partition);
    const iso = at.toISOString();
    const mask = sql.join(
      segments.map((_, i) => sql.raw(`(CASE WHEN m.s${i} IS TRUE THEN ${2 ** i}::int8 ELSE 0::int8 END)`)),
      sql` | `,
    );
    // Enough memory to hash-aggregate facts and hash-join masks instead of spilling sorts to disk;
    // no parallel plan when partitions already run side by side (their finalize step is serial anyway);
    // over every profile, the server's JIT, which the services' connections turn off for their short statements.
    // Hand-written for `npm run bench -- --only=segmentation` (recompute): one set-based diff per partition.
    // JIT only pays off over every profile: compiling 20 segments' expressions costs more than evaluating a few thousand rows.
    await tx.execute(
      sql`select set_config('work_mem', ${settings.workMem}, true), set_config('max_parallel_workers_per_gather', ${settings.parallel ? '2' : '0'}, true), set_config('jit', ${settings.onlyProfiles ? 'off' : 'on'}, true)`,
    );
    const seg = jsonParam(segments.map((s, bit) => ({ id: s.id, version: s.version, bit })));
    // The matrix then covers only these profiles: so must the memberships it is compared with.
    const only = settings.onlyProfiles ? sql.raw(`where m.profile_id in (select profile_id from ${settings.onlyProfiles})`) : sql``;
    // A CREATE TABLE AS may run in parallel; a SELECT inside a statement that writes may not.
    await tx.execute(sql`create temp table recompute_changed on commit drop as
      with seg as (select * from json_to_recordset(${seg}::json) as s(id uuid, version int, bit int)),
        old as (select m.profile_id, bit_or(1::int8 << s.bit) as mask from ${sql.raw(tables.memberships)} m join seg s on s.id = m.segment_id ${only} group by m.profile_id),
        n as (select m.profile_id, m.row_version, ${mask} as mask from (${matrix}) m)
      select n.profile_id, n.row_version, n.mask as new_mask, coalesce(o.mask, 0) as old_mask from n left join old o on o.profile_id = n.profile_id where n.mask <> coalesce(o.mask, 0)`);
    await tx.execute(sql`analyze recompute_changed`);
    // Real-time batches on this partition finish first, and wait until this commits.
    await tx.execute(sql`select pg_advisory_xact_lock(${PARTITION_LOCK_CLASS}::int, ${partition}::int)`);
    await tx.execute(sql`create temp table recompute_diff on commit drop as
      with seg as (select * from json_to_recordset(${seg}::json) as s(id uuid, version int, bit int))
      select s.id as segment_id, c.profile_id, case when (c.new_mask >> s.bit) & 1 = 1 then 'entered' else 'exited' end as change, s.version
      from recompute_changed c join ${sql.raw(tables.profileView)} p on p.profile_id = c.profile_id and p.xmin = c.row_version
      join seg s on ((c.new_mask # c.old_mask) >> s.bit) & 1 = 1`);
    await tx.execute(sql`analyze recompute_diff`);
    const rows = await queryRows<{ seq: string | number; segment_id: string; profile_id: string; change: 'entered' | 'exited'; segment_version: number }>(
      tx,
      sql`with ins as (insert into ${sql.raw(tables.memberships)} (segment_id, profile_id, since) select segment_id, profile_id, ${iso}::timestamptz from recompute_diff where change = 'entered'
          on conflict do nothing returning segment_id, profile_id),
        del as (delete from ${sql.raw(tables.memberships)} x using recompute_diff d where d.change = 'exited' and x.segment_id = d.segment_id and x.profile_id = d.profile_id returning x.segment_id, x.profile_id),
        applied as (select segment_id, profile_id from ins union all select segment_id, profile_id from del),
        logged as (insert into segmentation.membership_changes (segment_id, profile_id, change, segment_version, at)
          select d.segment_id, d.profile_id, d.change, d.version, ${iso}::timestamptz from recompute_diff d join applied a using (segment_id, profile_id) order by d.segment_id, d.change, d.profile_id
          returning seq, segment_id, profile_id, change, segment_version)
        select seq, segment_id, profile_id, change, segment_version from logged order by seq`,
    );
    await tx.execute(sql`drop table recompute_diff`);
    await tx.execute(sql`drop table recompute_changed`);
    return rows.map((r) => ({ seq: Number(r.seq), segmentId: r.segment_id, profileId: r.profile_id, change: r.change, segmentVersion: r.segment_version, at: iso }));
  }

  /** The memberships of some profiles, with each segment's version. */
  membershipsOf(tx: Tx, profileIds: string[]): Promise<Array<{ segment_id: string; profile_id: string; version: number }>> {
    // Hand-written for `npm run bench -- --only=segmentation` (real time: merges and erasures in a batch): ids through the index (anyOf).
    return queryRows(
      tx,
      sql`select m.segment_id, m.profile_id, s.version from segmentation.memberships m join segmentation.segments s on s.id = m.segment_id
        where m.profile_id = ${anyOf(profileIds, 'uuid')}`,
    );
  }

  /**
   * `name` (a temp table dropped on commit) filled with the profile ids `query` selects, analysed
   * so the statements that join it are planned for its size; returns how many it holds.
   */
  async createCandidates(tx: Tx, name: string, query: SQL): Promise<number> {
    // Hand-written for `npm run bench -- --only=segmentation` (recompute since the last one): one temp table per partition and group.
    await tx.execute(sql`create temp table ${sql.raw(name)} on commit drop as ${query}`);
    await tx.execute(sql.raw(`analyze ${name}`));
    const [row] = await queryRows<{ n: number }>(tx, sql.raw(`select count(*)::int as n from ${name}`));
    return row.n;
  }

  /** When each segment was last evaluated over every profile (segments never evaluated are absent), epoch ms. */
  async evaluatedAt(tx: Tx): Promise<Map<string, number>> {
    // Hand-written like the rest of this repository's statements (recompute since the last one).
    const rows = await queryRows<{ id: string; evaluated_at: string | Date }>(tx, sql`select id, evaluated_at from segmentation.segments where evaluated_at is not null`);
    return new Map(rows.map((r) => [r.id, new Date(r.evaluated_at).getTime()]));
  }

  async markEvaluated(tx: Tx, segmentIds: string[], at: Date): Promise<void> {
    if (segmentIds.length === 0) return;
    // Hand-written for `npm run bench -- --only=segmentation` (recompute), in the recompute's own connection or transaction.
    await tx.execute(sql`update segmentation.segments set evaluated_at = ${at.toISOString()}::timestamptz where id = ${anyOf(segmentIds, 'uuid')}`);
  }
}
