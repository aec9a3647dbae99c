import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { MembershipSnapshotRowV1 } from '@segmenta/contracts';
import { DATABASE, anyOf, jsonParam, queryRows, type Database, type Db } from '@segmenta/persistence';
import type * as tables from '../db/schema';
import type { MembershipChange } from './membership-changes';
import type { IdentifierKind, ProfileFacts } from './profile-facts';
import { eraseLoyalty, mergeLoyalty } from '../loyalty/loyalty-lifecycle';
import { eraseJourneys, mergeJourneys } from '../journeys/journey-lifecycle';

export type Tx = Pick<Db, 'execute'>;

const STATE_ID = 'memberships';
/**
 * Advisory lock (class, key) between membership writes (shared) and merges or erasures
 * (exclusive): a batch of changes that started before an erasure cannot write the erased
 * profile's rows after it, and one that starts after it sees the profile gone.
 */
const GONE_LOCK = sql`${0x0ff3}::int, 1`;

export interface ReadModelStateRow {
  lastSeq: number;
  lastChangeAt: string | null;
  rebuildMark: number;
  rebuildStartedAt: string | null;
  rebuildFinishedAt: string | null;
  rebuildSnapshotSeq: number | null;
  rebuildRows: number | null;
  rebuildError: string | null;
}

/** A row of offers.profile_facts, as the driver or row_to_json gives it. */
export interface ProfileFactsRow {
  profile_id: string;
  lifecycle_stage: string | null;
  top_category: string | null;
  clv: number | null;
  aov: number | null;
  churn_risk: number | null;
  p_alive: number | null;
  propensities: Record<string, number> | null;
}

export const toProfileFacts = (r: ProfileFactsRow): ProfileFacts => ({
  lifecycleStage: r.lifecycle_stage,
  topCategory: r.top_category,
  clv: r.clv,
  aov: r.aov,
  churnRisk: r.churn_risk,
  pAlive: r.p_alive,
  propensities: r.propensities ?? {},
});

const iso = (value: string | Date | null) => (value === null ? null : new Date(value).toISOString());

/** Offers' read model of memberships and profile facts (SQL only). */
@Injectable()
export class ReadModelRepository {
  constructor(@Inject(DATABASE) readonly database: Database<typeof tables>) {}

  /** Shared against merges and erasures, for the rest of the transaction. */
  async holdMembershipWrites(tx: Tx): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock_shared(${GONE_LOCK})`);
  }

  /** Exclusive: waits for membership batches in flight, for the rest of the transaction. */
  async holdProfilesGone(tx: Tx): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(${GONE_LOCK})`);
  }

  /**
   * Upserts the changes (at most one per pair) where they are newer than what is stored (the seq
   * guard); changes of deleted segments or of profiles merged away or erased are not applied.
   * Returns how many rows changed.
   */
  async applyChanges(tx: Tx, changes: MembershipChange[]): Promise<number> {
    if (changes.length === 0) return 0;
    const rows = changes.map((c) => ({ segment_id: c.segmentId, segment_key: c.segmentKey, profile_id: c.profileId, member: c.member, seq: c.seq }));
    const [row] = await queryRows<{ n: number }>(
      tx,
      sql`with applied as (
          insert into offers.membership_view as v (segment_id, segment_key, profile_id, member, seq, updated_at)
          select x.segment_id, x.segment_key, x.profile_id, x.member, x.seq, now()
          from json_to_recordset(${jsonParam(rows)}::json) as x(segment_id uuid, segment_key text, profile_id uuid, member boolean, seq bigint)
          where not exists (select 1 from offers.gone_profiles g where g.profile_id = x.profile_id)
            and not exists (select 1 from offers.removed_segments r where r.segment_id = x.segment_id)
          on conflict (segment_id, profile_id) do update set segment_key = excluded.segment_key, member = excluded.member, seq = excluded.seq, updated_at = now()
          where excluded.seq > v.seq
          returning 1)
        select count(*)::int as n from applied`,
    );
    return row.n;
  }

  /** A snapshot page: members as of the page, unless a newer change is stored; every pair seen is marked with the rebuild. */
  async applySnapshotPage(tx: Tx, rows: MembershipSnapshotRowV1[], mark: number): Promise<void> {
    if (rows.length === 0) return;
    const json = rows.map((r) => ({ segment_id: r.segmentId, segment_key: r.segmentKey, profile_id: r.profileId, seq: r.seq }));
    await tx.execute(sql`insert into offers.membership_view as v (segment_id, segment_key, profile_id, member, seq, rebuild_mark, updated_at)
      select x.segment_id, x.segment_key, x.profile_id, true, x.seq, ${mark}::int, now()
      from json_to_recordset(${jsonParam(json)}::json) as x(segment_id uuid, segment_key text, profile_id uuid, seq bigint)
      where not exists (select 1 from offers.gone_profiles g where g.profile_id = x.profile_id)
        and not exists (select 1 from offers.removed_segments r where r.segment_id = x.segment_id)
      on conflict (segment_id, profile_id) do update set
        member = case when excluded.seq > v.seq then true else v.member end,
        seq = greatest(v.seq, excluded.seq),
        segment_key = excluded.segment_key,
        rebuild_mark = excluded.rebuild_mark,
        updated_at = now()`);
  }

  /**
   * After the last page: members the pages did not hold, whose last change is not newer than the
   * snapshot's start (S0), are not members any more. Rows are kept (with their seq) for the guard.
   */
  async sweepUnseen(tx: Tx, mark: number, snapshotSeq: number): Promise<number> {
    const [row] = await queryRows<{ n: number }>(
      tx,
      sql`with swept as (update offers.membership_view set member = false, updated_at = now()
          where member and rebuild_mark < ${mark}::int and seq <= ${snapshotSeq}::bigint returning 1) select count(*)::int as n from swept`,
    );
    return row.n;
  }

  /** A deleted segment: its rows and name go, and later changes of it are not applied. */
  async removeSegment(tx: Tx, segmentId: string): Promise<void> {
    await tx.execute(sql`insert into offers.removed_segments (segment_id) values (${segmentId}::uuid) on conflict do nothing`);
    await tx.execute(sql`delete from offers.membership_view where segment_id = ${segmentId}::uuid`);
    await tx.execute(sql`delete from offers.segment_names where segment_id = ${segmentId}::uuid`);
  }

  /**
   * Segments' keys and names as segmentation announced them; a new or changed name moves the
   * catalog version, so every replica's catalog reloads the names its reasons use.
   * `exactly`: these are all the segments (a rebuild's head), so the names of any others go.
   */
  async writeSegmentNames(tx: Tx, segments: Array<{ segmentId: string; key: string; name: string }>, exactly = false): Promise<void> {
    const rows = segments.map((s) => ({ segment_id: s.segmentId, segment_key: s.key, name: s.name }));
    await tx.execute(sql`with written as (
        insert into offers.segment_names as n (segment_id, segment_key, name)
        select segment_id, segment_key, name from json_to_recordset(${jsonParam(rows)}::json) as x(segment_id uuid, segment_key text, name text)
        where not exists (select 1 from offers.removed_segments r where r.segment_id = x.segment_id)
        on conflict (segment_id) do update set segment_key = excluded.segment_key, name = excluded.name, updated_at = now()
        where (n.segment_key, n.name) is distinct from (excluded.segment_key, excluded.name)
        returning 1),
      dropped as (
        delete from offers.segment_names where ${exactly}::boolean and segment_id <> all(array(select (x->>'segment_id')::uuid from json_array_elements(${jsonParam(rows)}::json) x))
        returning 1)
      update offers.catalog_version set version = version + 1 where id = 1 and (exists (select 1 from written) or exists (select 1 from dropped))`);
  }

  /** A segment's key as segments.changed names it (kept on every row for look-ups by key). */
  async renameSegment(tx: Tx, segmentId: string, key: string): Promise<void> {
    await tx.execute(sql`update offers.membership_view set segment_key = ${key} where segment_id = ${segmentId}::uuid and segment_key <> ${key}`);
  }

  /** Moves the progress forward to the batch's last change (never back). */
  async recordProgress(tx: Tx, seq: number, at: string | null): Promise<void> {
    await tx.execute(sql`insert into offers.read_model_state as s (id, last_seq, last_change_at) values (${STATE_ID}, ${seq}::bigint, ${at}::timestamptz)
      on conflict (id) do update set last_seq = excluded.last_seq, last_change_at = excluded.last_change_at where excluded.last_seq > s.last_seq`);
  }

  async goneOf(tx: Tx, profileIds: string[]): Promise<Set<string>> {
    if (profileIds.length === 0) return new Set();
    const rows = await queryRows<{ profile_id: string }>(tx, sql`select profile_id from offers.gone_profiles where profile_id = ${anyOf(profileIds, 'uuid')}`);
    return new Set(rows.map((r) => r.profile_id));
  }

  async facts(tx: Tx, profileIds: string[]): Promise<Map<string, ProfileFacts>> {
    if (profileIds.length === 0) return new Map();
    const rows = await queryRows<ProfileFactsRow>(
      tx,
      sql`select profile_id, lifecycle_stage, top_category, clv, aov, churn_risk, p_alive, propensities from offers.profile_facts where profile_id = ${anyOf(profileIds, 'uuid')}`,
    );
    return new Map(rows.map((r) => [r.profile_id, toProfileFacts(r)]));
  }

  async writeFacts(tx: Tx, facts: Array<{ profileId: string; facts: ProfileFacts }>): Promise<void> {
    if (facts.length === 0) return;
    const rows = facts.map(({ profileId, facts: f }) => ({
      profile_id: profileId,
      lifecycle_stage: f.lifecycleStage,
      top_category: f.topCategory,
      clv: f.clv,
      aov: f.aov,
      churn_risk: f.churnRisk,
      p_alive: f.pAlive,
      propensities: f.propensities,
    }));
    await tx.execute(sql`insert into offers.profile_facts (profile_id, lifecycle_stage, top_category, clv, aov, churn_risk, p_alive, propensities, updated_at)
      select profile_id, lifecycle_stage, top_category, clv, aov, churn_risk, p_alive, propensities, now()
      from json_to_recordset(${jsonParam(rows)}::json) as x(profile_id uuid, lifecycle_stage text, top_category text, clv float8, aov float8, churn_risk float8, p_alive float8, propensities jsonb)
      on conflict (profile_id) do update set lifecycle_stage = excluded.lifecycle_stage, top_category = excluded.top_category, clv = excluded.clv, aov = excluded.aov,
        churn_risk = excluded.churn_risk, p_alive = excluded.p_alive, propensities = excluded.propensities, updated_at = now()`);
  }

  /** Each identifier points at the profile that last announced it (a merge can move one). */
  async writeIdentifiers(tx: Tx, rows: Array<{ kind: IdentifierKind; value: string; profileId: string }>): Promise<void> {
    if (rows.length === 0) return;
    const unique = new Map(rows.map((r) => [`${r.kind}:${r.value}`, { kind: r.kind, value: r.value, profile_id: r.profileId }]));
    await tx.execute(sql`insert into offers.profile_identifiers (kind, value, profile_id)
      select kind, value, profile_id from json_to_recordset(${jsonParam([...unique.values()])}::json) as x(kind text, value text, profile_id uuid)
      on conflict (kind, value) do update set profile_id = excluded.profile_id where offers.profile_identifiers.profile_id <> excluded.profile_id`);
  }

  /**
   * `from` was merged into `into`: its memberships go (the survivor's come from segmentation's own
   * changes), its facts move only if the survivor has none yet (a full update follows the merge),
   * its identifiers resolve to the survivor, and its id too.
   */
  async merge(tx: Tx, from: string, into: string): Promise<void> {
    await tx.execute(sql`delete from offers.membership_view where profile_id = ${from}::uuid`);
    await tx.execute(sql`update offers.profile_facts set profile_id = ${into}::uuid where profile_id = ${from}::uuid
      and not exists (select 1 from offers.profile_facts f where f.profile_id = ${into}::uuid)`);
    await tx.execute(sql`delete from offers.profile_facts where profile_id = ${from}::uuid`);
    await tx.execute(sql`update offers.profile_identifiers set profile_id = ${into}::uuid where profile_id = ${from}::uuid`);
    await tx.execute(sql`insert into offers.gone_profiles (profile_id, merged_into) values (${from}::uuid, ${into}::uuid)
      on conflict (profile_id) do update set merged_into = excluded.merged_into`);
    await tx.execute(sql`update offers.gone_profiles set merged_into = ${into}::uuid where merged_into = ${from}::uuid`);
    await mergeLoyalty(tx, from, into);
    await mergeJourneys(tx, from, into);
  }

  /** Erasure (ADR 14): everything of these profiles goes; only their random ids stay, so late messages about them are dropped. */
  async erase(tx: Tx, profileIds: string[]): Promise<void> {
    if (profileIds.length === 0) return;
    const ids = anyOf(profileIds, 'uuid');
    await tx.execute(sql`delete from offers.membership_view where profile_id = ${ids}`);
    await tx.execute(sql`delete from offers.profile_facts where profile_id = ${ids}`);
    await tx.execute(sql`delete from offers.profile_identifiers where profile_id = ${ids}`);
    await tx.execute(sql`insert into offers.gone_profiles (profile_id, merged_into) select v::uuid, null from json_array_elements_text(${jsonParam(profileIds)}::json) v
      on conflict (profile_id) do update set merged_into = null`);
    await tx.execute(sql`update offers.gone_profiles set merged_into = null where merged_into = ${ids}`);
    await eraseLoyalty(tx, profileIds);
    await eraseJourneys(tx, profileIds);
  }

  async state(): Promise<ReadModelStateRow> {
    const [row] = await queryRows<{
      last_seq: string | number;
      last_change_at: string | Date | null;
      rebuild_mark: number;
      rebuild_started_at: string | Date | null;
      rebuild_finished_at: string | Date | null;
      rebuild_snapshot_seq: string | number | null;
      rebuild_rows: number | null;
      rebuild_error: string | null;
    }>(this.database.db, sql`select * from offers.read_model_state where id = ${STATE_ID}`);
    if (!row) return { lastSeq: 0, lastChangeAt: null, rebuildMark: 0, rebuildStartedAt: null, rebuildFinishedAt: null, rebuildSnapshotSeq: null, rebuildRows: null, rebuildError: null };
    return {
      lastSeq: Number(row.last_seq),
      lastChangeAt: iso(row.last_change_at),
      rebuildMark: row.rebuild_mark,
      rebuildStartedAt: iso(row.rebuild_started_at),
      rebuildFinishedAt: iso(row.rebuild_finished_at),
      rebuildSnapshotSeq: row.rebuild_snapshot_seq === null ? null : Number(row.rebuild_snapshot_seq),
      rebuildRows: row.rebuild_rows,
      rebuildError: row.rebuild_error,
    };
  }

  /** Starts a rebuild: its mark (one more than the last) and the time. */
  async startRebuild(): Promise<number> {
    const [row] = await queryRows<{ rebuild_mark: number }>(
      this.database.db,
      sql`insert into offers.read_model_state as s (id, rebuild_mark, rebuild_started_at) values (${STATE_ID}, 1, now())
        on conflict (id) do update set rebuild_mark = s.rebuild_mark + 1, rebuild_started_at = now(), rebuild_finished_at = null, rebuild_error = null, rebuild_snapshot_seq = null, rebuild_rows = null
        returning rebuild_mark`,
    );
    return row.rebuild_mark;
  }

  /** The snapshot seq (S0) once known: the progress is at least there once the pages are in. */
  async finishRebuild(tx: Tx, mark: number, snapshot: { seq: number; at: string | null }, rows: number): Promise<void> {
    await tx.execute(sql`update offers.read_model_state set rebuild_finished_at = now(), rebuild_snapshot_seq = ${snapshot.seq}::bigint, rebuild_rows = ${rows}::int,
        last_change_at = case when ${snapshot.seq}::bigint > last_seq then ${snapshot.at}::timestamptz else last_change_at end,
        last_seq = greatest(last_seq, ${snapshot.seq}::bigint)
      where id = ${STATE_ID} and rebuild_mark = ${mark}::int`);
  }

  async failRebuild(mark: number, error: string): Promise<void> {
    await this.database.db.execute(sql`update offers.read_model_state set rebuild_error = ${error.slice(0, 500)} where id = ${STATE_ID} and rebuild_mark = ${mark}::int`);
  }

  async counts(): Promise<{ memberships: number; pairs: number; profiles: number }> {
    const [row] = await queryRows<{ memberships: number; pairs: number; profiles: number }>(
      this.database.db,
      sql`select (select count(*)::int from offers.membership_view where member) as memberships, (select count(*)::int from offers.membership_view) as pairs,
        (select count(*)::int from offers.profile_facts) as profiles`,
    );
    return row;
  }

  async isEmpty(): Promise<boolean> {
    const rows = await queryRows<{ one: number }>(this.database.db, sql`select 1 as one from offers.membership_view limit 1`);
    return rows.length === 0;
  }

  /** Of these profiles, the segments among `segmentKeys` each is a member of. */
  /** `tx`: inside a caller's transaction (on PGlite, one connection, a read beside it would wait for it). */
  memberSegments(profileIds: string[], segmentKeys: string[], tx: Tx = this.database.db): Promise<Array<{ profile_id: string; segment_key: string }>> {
    if (profileIds.length === 0 || segmentKeys.length === 0) return Promise.resolve([]);
    return queryRows(tx, sql`select profile_id, segment_key from offers.membership_view where profile_id = ${anyOf(profileIds, 'uuid')} and segment_key = ${anyOf(segmentKeys, 'text')} and member`);
  }

  async profileByIdentifier(kind: IdentifierKind, value: string): Promise<string | null> {
    const [row] = await queryRows<{ profile_id: string }>(this.database.db, sql`select profile_id from offers.profile_identifiers where kind = ${kind} and value = ${value}`);
    return row?.profile_id ?? null;
  }

  /** A profile id as it stands: itself, the survivor it was merged into, or null once erased. */
  async currentProfileId(profileId: string): Promise<{ gone: boolean; mergedInto: string | null }> {
    const [row] = await queryRows<{ merged_into: string | null }>(this.database.db, sql`select merged_into from offers.gone_profiles where profile_id = ${profileId}::uuid`);
    return row ? { gone: true, mergedInto: row.merged_into } : { gone: false, mergedInto: null };
  }

  async factsOf(profileId: string): Promise<ProfileFacts | null> {
    return (await this.facts(this.database.db, [profileId])).get(profileId) ?? null;
  }
}
