import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { ExperimentChangedV1 } from '@segmenta/contracts';
import { DATABASE, anyOf, jsonParam, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import type { OffersTx } from '../catalog/offers.repository';
import type { CouponHandling } from '../catalog/offer-rules';
import * as tables from '../db/schema';
import type { JourneyDefinition } from './journey-definition';
import type { EnrollmentState, StepOutcome } from './journey-steps';
import type { ChannelRow } from './journeys.repository';

export type { ChannelRow };

/** A customer about to enter a journey, from the message (`cause`) that triggered it. */
export interface EntryCandidate {
  journeyKey: string;
  version: number;
  profileId: string;
  cause: string;
  firstStep: string;
  /** null: never again once entered. */
  reentryDays: number | null;
}

export interface ActiveEnrollment {
  id: string;
  journeyKey: string;
  version: number;
  profileId: string;
}

export interface DeliveryRow {
  id: string;
  enrollmentId: string;
  stepId: string;
  journeyKey: string;
  version: number;
  profileId: string;
  channel: string;
  payload: Record<string, unknown>;
  attempts: number;
  createdAt: Date;
  giveUpAt: Date;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

const DAY_MS = 86_400_000;
const date = (v: string | Date) => (v instanceof Date ? v : new Date(v));

/**
 * The SQL of running journeys (issue 20): entries and re-entry, enrollments and their due steps,
 * step runs, deliveries and their attempts. Bulk statements take their rows as one JSON parameter.
 */
@Injectable()
export class JourneyRunsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  transaction<T>(work: (tx: OffersTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  get db() {
    return this.database.db;
  }

  /** The active journeys with their current definitions. */
  async activeJourneys(): Promise<Array<{ key: string; name: string; version: number; definition: JourneyDefinition }>> {
    return queryRows(
      this.database.db,
      sql`select j.key, j.name, j.version, v.definition from offers.journeys j join offers.journey_versions v on v.journey_key = j.key and v.version = j.version where j.status = 'active'`,
    );
  }

  async definition(key: string, version: number, tx?: OffersTx): Promise<JourneyDefinition | undefined> {
    const [row] = await queryRows<{ definition: JourneyDefinition }>(tx ?? this.database.db, sql`select definition from offers.journey_versions where journey_key = ${key} and version = ${version}`);
    return row?.definition;
  }

  /**
   * Enters the candidates their journeys' re-entry policies allow, at `now`: a customer never
   * enters a journey again (policy never), or only N days after their last entry and when no
   * enrollment of theirs is still running (policy after). The journey × customer rows are created
   * first and then locked, so concurrent triggers for one customer take turns. Returns the new
   * enrollments; erased and merged-away customers enter nothing.
   */
  async enter(tx: OffersTx, candidates: EntryCandidate[], now: Date): Promise<ActiveEnrollment[]> {
    if (candidates.length === 0) return [];
    const pairs = [...new Map(candidates.map((c) => [`${c.journeyKey}\u0000${c.profileId}`, c])).values()].sort((a, b) =>
      a.journeyKey === b.journeyKey ? (a.profileId < b.profileId ? -1 : 1) : a.journeyKey < b.journeyKey ? -1 : 1,
    );
    const json = jsonParam(pairs.map((c) => ({ journey_key: c.journeyKey, profile_id: c.profileId })));
    await tx.execute(sql`insert into offers.journey_entries (journey_key, profile_id, last_entered_at, entries)
      select x.journey_key, x.profile_id, '-infinity', 0 from json_to_recordset(${json}::json) as x(journey_key text, profile_id uuid)
      where not exists (select 1 from offers.gone_profiles g where g.profile_id = x.profile_id)
      order by 1, 2 on conflict do nothing`);
    const rows = await queryRows<{ journey_key: string; profile_id: string; last_entered_at: string | Date; entries: number; running: boolean }>(
      tx,
      sql`select e.journey_key, e.profile_id, e.last_entered_at, e.entries,
          exists (select 1 from offers.journey_enrollments r where r.journey_key = e.journey_key and r.profile_id = e.profile_id and r.status = 'active') as running
        from offers.journey_entries e join json_to_recordset(${json}::json) as x(journey_key text, profile_id uuid) on x.journey_key = e.journey_key and x.profile_id = e.profile_id
        order by e.journey_key, e.profile_id for update of e`,
    );
    const byPair = new Map(rows.map((r) => [`${r.journey_key}\u0000${r.profile_id}`, r]));
    const admitted = pairs.filter((c) => {
      const row = byPair.get(`${c.journeyKey}\u0000${c.profileId}`);
      if (!row) return false;
      if (row.entries === 0) return true;
      return c.reentryDays !== null && !row.running && now.getTime() - date(row.last_entered_at).getTime() >= c.reentryDays * DAY_MS;
    });
    if (admitted.length === 0) return [];
    const admittedJson = jsonParam(admitted.map((c) => ({ id: randomUUID(), journey_key: c.journeyKey, version: c.version, profile_id: c.profileId, cause: c.cause, step_id: c.firstStep })));
    await tx.execute(sql`update offers.journey_entries e set last_entered_at = ${now.toISOString()}::timestamptz, entries = e.entries + 1
      from json_to_recordset(${admittedJson}::json) as x(journey_key text, profile_id uuid) where e.journey_key = x.journey_key and e.profile_id = x.profile_id`);
    return queryRows<ActiveEnrollment>(
      tx,
      sql`insert into offers.journey_enrollments (id, journey_key, version, profile_id, cause, step_id, due_at, entered_at)
        select x.id, x.journey_key, x.version, x.profile_id, x.cause, x.step_id, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
        from json_to_recordset(${admittedJson}::json) as x(id uuid, journey_key text, version int, profile_id uuid, cause text, step_id text)
        on conflict (journey_key, cause) do nothing
        returning id, journey_key as "journeyKey", version, profile_id as "profileId"`,
    );
  }

  /** Whether any enrollment is running (an index probe on the partial index of active enrollments). */
  async anyRunning(): Promise<boolean> {
    const rows = await queryRows<{ one: number }>(this.database.db, sql`select 1 as one from offers.journey_enrollments where status = 'active' limit 1`);
    return rows.length > 0;
  }

  /** The running enrollments of these customers. */
  async activeOf(tx: OffersTx, profileIds: string[]): Promise<ActiveEnrollment[]> {
    if (profileIds.length === 0) return [];
    return queryRows<ActiveEnrollment>(
      tx,
      sql`select id, journey_key as "journeyKey", version, profile_id as "profileId" from offers.journey_enrollments
        where profile_id = ${anyOf(profileIds, 'uuid')} and status = 'active' order by id for update`,
    );
  }

  /** Ends running enrollments early (left the segment, converted, journey archived). */
  async end(tx: OffersTx, ends: Array<{ id: string; status: 'exited' | 'converted'; reason: string }>, now: Date): Promise<void> {
    if (ends.length === 0) return;
    await tx.execute(sql`update offers.journey_enrollments e set status = x.status, end_reason = x.reason, ended_at = ${now.toISOString()}::timestamptz, step_id = null, due_at = null
      from json_to_recordset(${jsonParam(ends)}::json) as x(id uuid, status text, reason text) where e.id = x.id and e.status = 'active'`);
  }

  /** Adds track event names to running enrollments' histories (did_event branches read them). */
  async noteEvents(tx: OffersTx, notes: Array<{ id: string; event: string }>): Promise<void> {
    if (notes.length === 0) return;
    await tx.execute(sql`update offers.journey_enrollments e set events = (
        select coalesce(jsonb_agg(distinct v), '[]'::jsonb) from (select jsonb_array_elements_text(e.events) as v union select x.event) s)
      from (select id, event from json_to_recordset(${jsonParam(notes)}::json) as r(id uuid, event text)) x
      where e.id = x.id and e.status = 'active' and jsonb_array_length(e.events) < 200`);
  }

  async keepTimeZones(tx: OffersTx, zones: Array<{ profileId: string; timeZone: string }>): Promise<void> {
    if (zones.length === 0) return;
    await tx.execute(sql`insert into offers.customer_time_zones (profile_id, time_zone)
      select distinct on (x."profileId") x."profileId", x."timeZone" from json_to_recordset(${jsonParam(zones)}::json) as x("profileId" uuid, "timeZone" text)
      on conflict (profile_id) do update set time_zone = excluded.time_zone, updated_at = now()`);
  }

  async endAllOf(tx: OffersTx, journeyKey: string, reason: string, now: Date): Promise<number> {
    const rows = await queryRows<{ id: string }>(
      tx,
      sql`update offers.journey_enrollments set status = 'exited', end_reason = ${reason}, ended_at = ${now.toISOString()}::timestamptz, step_id = null, due_at = null
        where journey_key = ${journeyKey} and status = 'active' returning id`,
    );
    return rows.length;
  }

  /** Locks up to `limit` enrollments of active journeys whose step is due, skipping those another executor holds. */
  async claimDue(tx: OffersTx, now: Date, limit: number, ids?: string[]): Promise<EnrollmentState[]> {
    const rows = await queryRows<{ id: string; journey_key: string; version: number; profile_id: string; step_id: string | null; entered_at: string | Date; events: string[] }>(
      tx,
      sql`select e.id, e.journey_key, e.version, e.profile_id, e.step_id, e.entered_at, e.events from offers.journey_enrollments e
        where e.status = 'active' and e.due_at <= ${now.toISOString()}::timestamptz ${ids ? sql`and e.id = ${anyOf(ids, 'uuid')}` : sql``}
          and exists (select 1 from offers.journeys j where j.key = e.journey_key and j.status = 'active')
        order by e.due_at limit ${limit} for update of e skip locked`,
    );
    return rows.map((r) => ({ id: r.id, journeyKey: r.journey_key, version: r.version, profileId: r.profile_id, stepId: r.step_id, enteredAt: date(r.entered_at), events: r.events }));
  }

  /** An enrollment whose step failed on its own: due again after 1, 2, 4 … up to 60 minutes, the error kept. */
  async postpone(id: string, error: string, now: Date): Promise<Date> {
    const [row] = await queryRows<{ due_at: string | Date }>(
      this.database.db,
      sql`update offers.journey_enrollments set failures = failures + 1, last_error = ${error.slice(0, 500)},
          due_at = ${now.toISOString()}::timestamptz + least(power(2, failures), 60) * interval '1 minute'
        where id = ${id}::uuid and status = 'active' returning due_at`,
    );
    return row ? date(row.due_at) : now;
  }

  async timeZones(tx: OffersTx, profileIds: string[]): Promise<Map<string, string>> {
    const rows = await queryRows<{ profile_id: string; time_zone: string }>(tx, sql`select profile_id, time_zone from offers.customer_time_zones where profile_id = ${anyOf(profileIds, 'uuid')}`);
    return new Map(rows.map((r) => [r.profile_id, r.time_zone]));
  }

  /**
   * The customers' sends per channel in the last 7 days, after taking each customer's cap lock: a
   * send decided by another executor for the same customer is committed before these are read.
   */
  async recentSends(tx: OffersTx, profileIds: string[], now: Date): Promise<Map<string, Date[]>> {
    const sorted = [...new Set(profileIds)].sort();
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('journey-caps:' || p, 21)) from json_array_elements_text(${jsonParam(sorted)}::json) as p order by p`);
    const rows = await queryRows<{ profile_id: string; channel: string; created_at: string | Date }>(
      tx,
      sql`select profile_id, channel, created_at from offers.journey_deliveries
        where profile_id = ${anyOf(sorted, 'uuid')} and created_at > ${new Date(now.getTime() - 7 * DAY_MS).toISOString()}::timestamptz`,
    );
    const sends = new Map<string, Date[]>();
    for (const r of rows) {
      const key = `${r.profile_id}\u0000${r.channel}`;
      sends.set(key, [...(sends.get(key) ?? []), date(r.created_at)]);
    }
    return sends;
  }

  /** Segment keys the customers are members of (for in_segment branches). */
  async memberships(tx: OffersTx, profileIds: string[], segmentKeys: string[]): Promise<Set<string>> {
    if (profileIds.length === 0 || segmentKeys.length === 0) return new Set();
    const rows = await queryRows<{ profile_id: string; segment_key: string }>(
      tx,
      sql`select profile_id, segment_key from offers.membership_view where profile_id = ${anyOf(profileIds, 'uuid')} and segment_key = ${anyOf(segmentKeys, 'text')} and member`,
    );
    return new Set(rows.map((r) => `${r.profile_id}\u0000${r.segment_key}`));
  }

  /** Redemptions (not cancelled) of these offers by these customers, with their times. */
  async redemptionsOf(tx: OffersTx, profileIds: string[], offerKeys: string[]): Promise<Array<{ profileId: string; offerKey: string; at: Date }>> {
    if (profileIds.length === 0 || offerKeys.length === 0) return [];
    const rows = await queryRows<{ profile_id: string; offer_key: string; redeemed_at: string | Date }>(
      tx,
      sql`select profile_id, offer_key, redeemed_at from offers.redemptions where profile_id = ${anyOf(profileIds, 'uuid')} and offer_key = ${anyOf(offerKeys, 'text')} and status = 'redeemed'`,
    );
    return rows.map((r) => ({ profileId: r.profile_id, offerKey: r.offer_key, at: date(r.redeemed_at) }));
  }

  /** The running experiments whose variants take branches of journey splits (a tiny table: a read per batch that has splits), by key. */
  async splitExperiments(tx: OffersTx): Promise<ExperimentChangedV1[]> {
    const rows = await queryRows<{ rules: ExperimentChangedV1 }>(
      tx,
      sql`select rules from offers.experiment_rules
        where status = 'running' and exists (select 1 from jsonb_array_elements(rules->'variants') v where jsonb_typeof(v->'journeyBranch') = 'object')
        order by key`,
    );
    return rows.map((r) => r.rules);
  }

  async channels(tx?: OffersTx): Promise<ChannelRow[]> {
    return (tx ?? this.database.db).select().from(tables.journeyChannels);
  }

  /** The offers sends name: key, name, status, coupons. */
  async offers(tx: OffersTx, keys: string[]): Promise<Map<string, { id: string; key: string; name: string; status: string; coupons: CouponHandling }>> {
    if (keys.length === 0) return new Map();
    const rows = await queryRows<{ id: string; key: string; name: string; status: string; coupons: CouponHandling }>(
      tx,
      sql`select id, key, name, status, coupons from offers.offers where key = ${anyOf(keys, 'text')}`,
    );
    return new Map(rows.map((r) => [r.key, r]));
  }

  /** The code of the offer held for the customer, or one newly reserved; undefined when the pool is empty. */
  async reserveCode(tx: OffersTx, offerId: string, profileId: string): Promise<string | undefined> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`reserve:${offerId}:${profileId}`}, 20))`);
    const [held] = await queryRows<{ code: string }>(
      tx,
      sql`select code from offers.coupon_codes where offer_id = ${offerId}::uuid and reserved_for = ${profileId}::uuid and status = 'reserved' limit 1`,
    );
    if (held) return held.code;
    const [reserved] = await queryRows<{ code: string }>(
      tx,
      sql`update offers.coupon_codes set status = 'reserved', reserved_for = ${profileId}::uuid
        where offer_id = ${offerId}::uuid and code = (
          select code from offers.coupon_codes where offer_id = ${offerId}::uuid and status = 'available' order by code limit 1 for update skip locked)
        and status = 'available' returning code`,
    );
    return reserved?.code;
  }

  /** Stores what a batch of due enrollments did: their step runs, their deliveries and where each goes next. */
  async recordSteps(
    tx: OffersTx,
    batch: {
      runs: Array<{ enrollmentId: string; stepId: string; journeyKey: string; version: number; outcome: StepOutcome; detail: string | null }>;
      /** New sends: a delivery before its first attempt. */
      deliveries: Array<Omit<DeliveryRow, 'attempts' | 'createdAt'>>;
      moves: Array<{ id: string; status: 'active' | 'completed'; stepId: string | null; dueAt: Date | null; reason: string | null }>;
    },
    now: Date,
  ): Promise<void> {
    const at = now.toISOString();
    if (batch.runs.length > 0)
      await tx.execute(sql`insert into offers.journey_step_runs (enrollment_id, step_id, journey_key, version, outcome, detail, at)
        select x."enrollmentId", x."stepId", x."journeyKey", x.version, x.outcome, x.detail, ${at}::timestamptz
        from json_to_recordset(${jsonParam(batch.runs)}::json) as x("enrollmentId" uuid, "stepId" text, "journeyKey" text, version int, outcome text, detail text)
        on conflict do nothing`);
    if (batch.deliveries.length > 0)
      await tx.execute(sql`insert into offers.journey_deliveries (id, enrollment_id, step_id, journey_key, version, profile_id, channel, payload, next_attempt_at, give_up_at, created_at)
        select x.id, x."enrollmentId", x."stepId", x."journeyKey", x.version, x."profileId", x.channel, x.payload, ${at}::timestamptz, x."giveUpAt", ${at}::timestamptz
        from json_to_recordset(${jsonParam(batch.deliveries)}::json) as x(id uuid, "enrollmentId" uuid, "stepId" text, "journeyKey" text, version int, "profileId" uuid, channel text, payload jsonb, "giveUpAt" timestamptz)
        on conflict do nothing`);
    if (batch.moves.length > 0)
      await tx.execute(sql`update offers.journey_enrollments e set status = x.status, step_id = x."stepId", due_at = x."dueAt",
          ended_at = case when x.status = 'active' then null else ${at}::timestamptz end, end_reason = x.reason
        from json_to_recordset(${jsonParam(batch.moves)}::json) as x(id uuid, status text, "stepId" text, "dueAt" timestamptz, reason text) where e.id = x.id`);
  }

  /**
   * Leases up to `limit` pending deliveries that are due: their next attempt moves `leaseMs` ahead,
   * so another worker (or this one after a crash) tries them again only once the lease has run out.
   */
  async leaseDue(now: Date, limit: number, leaseMs: number): Promise<DeliveryRow[]> {
    const rows = await queryRows<{
      id: string;
      enrollment_id: string;
      step_id: string;
      journey_key: string;
      version: number;
      profile_id: string;
      channel: string;
      payload: Record<string, unknown>;
      attempts: number;
      created_at: string | Date;
      give_up_at: string | Date;
    }>(
      this.database.db,
      sql`update offers.journey_deliveries d set next_attempt_at = ${new Date(now.getTime() + leaseMs).toISOString()}::timestamptz
        where d.id in (select id from offers.journey_deliveries where status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz
          order by next_attempt_at limit ${limit} for update skip locked)
        returning d.id, d.enrollment_id, d.step_id, d.journey_key, d.version, d.profile_id, d.channel, d.payload, d.attempts, d.created_at, d.give_up_at`,
    );
    return rows.map((r) => ({
      id: r.id,
      enrollmentId: r.enrollment_id,
      stepId: r.step_id,
      journeyKey: r.journey_key,
      version: r.version,
      profileId: r.profile_id,
      channel: r.channel,
      payload: r.payload,
      attempts: r.attempts,
      createdAt: date(r.created_at),
      giveUpAt: date(r.give_up_at),
    }));
  }

  /** Records the attempts of a round and each delivery's new state. */
  async recordAttempts(
    tx: OffersTx,
    attempts: AttemptRecord[],
    outcomes: Array<{ id: string; status: 'pending' | 'delivered' | 'failed'; attempts: number; nextAttemptAt: Date | null; lastError: string | null }>,
    now: Date,
  ): Promise<void> {
    if (attempts.length > 0)
      await tx.execute(sql`insert into offers.journey_delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
        select x."deliveryId", x.attempt, x.at, x."statusCode", x.error, x."durationMs"
        from json_to_recordset(${jsonParam(attempts)}::json) as x("deliveryId" uuid, attempt int, at timestamptz, "statusCode" int, error text, "durationMs" int)
        on conflict do nothing`);
    if (outcomes.length > 0)
      await tx.execute(sql`update offers.journey_deliveries d set status = x.status, attempts = x.attempts, last_error = x."lastError",
          next_attempt_at = coalesce(x."nextAttemptAt", d.next_attempt_at),
          finished_at = case when x.status = 'pending' then null else ${now.toISOString()}::timestamptz end
        from json_to_recordset(${jsonParam(outcomes)}::json) as x(id uuid, status text, attempts int, "nextAttemptAt" timestamptz, "lastError" text)
        where d.id = x.id and d.status = 'pending'`);
  }

  /** A journey's enrollments, newest first (optionally one customer's), each with the steps it ran and why. */
  async enrollments(key: string, filter: { profileId?: string; limit: number; before?: string }) {
    const rows = await queryRows<{
      id: string;
      profile_id: string;
      version: number;
      status: string;
      step_id: string | null;
      due_at: string | Date | null;
      entered_at: string | Date;
      ended_at: string | Date | null;
      end_reason: string | null;
      failures: number;
      last_error: string | null;
      steps: Array<{ step: string; outcome: string; detail: string | null; at: string }>;
    }>(
      this.database.db,
      sql`select e.id, e.profile_id, e.version, e.status, e.step_id, e.due_at, e.entered_at, e.ended_at, e.end_reason, e.failures, e.last_error,
          coalesce((select json_agg(json_build_object('step', r.step_id, 'outcome', r.outcome, 'detail', r.detail, 'at', r.at) order by r.at, r.step_id)
            from offers.journey_step_runs r where r.enrollment_id = e.id), '[]'::json) as steps
        from offers.journey_enrollments e
        where e.journey_key = ${key}
          ${filter.profileId ? sql`and e.profile_id = ${filter.profileId}::uuid` : sql``}
          ${filter.before ? sql`and (e.entered_at, e.id) < (select b.entered_at, b.id from offers.journey_enrollments b where b.id = ${filter.before}::uuid)` : sql``}
        order by e.entered_at desc, e.id desc limit ${filter.limit}`,
    );
    const iso = (v: string | Date | null) => (v === null ? null : date(v).toISOString());
    return rows.map((r) => ({
      id: r.id,
      profileId: r.profile_id,
      version: r.version,
      status: r.status,
      nextStep: r.step_id,
      dueAt: iso(r.due_at),
      enteredAt: iso(r.entered_at),
      endedAt: iso(r.ended_at),
      endReason: r.end_reason,
      failures: r.failures,
      lastError: r.last_error,
      steps: r.steps.map((s) => ({ ...s, at: date(s.at).toISOString() })),
    }));
  }

  /** A journey's deliveries, newest first (optionally one customer's or of one status), each with its attempts. */
  async deliveries(key: string, filter: { profileId?: string; status?: string; limit: number; before?: string }) {
    const rows = await queryRows<{
      id: string;
      step_id: string;
      profile_id: string;
      channel: string;
      status: string;
      attempts: number;
      last_error: string | null;
      created_at: string | Date;
      finished_at: string | Date | null;
      payload: Record<string, unknown>;
      tries: Array<{ attempt: number; at: string; statusCode: number | null; error: string | null; durationMs: number }>;
    }>(
      this.database.db,
      sql`select d.id, d.step_id, d.profile_id, d.channel, d.status, d.attempts, d.last_error, d.created_at, d.finished_at, d.payload,
          coalesce((select json_agg(json_build_object('attempt', a.attempt, 'at', a.at, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms) order by a.attempt)
            from offers.journey_delivery_attempts a where a.delivery_id = d.id), '[]'::json) as tries
        from offers.journey_deliveries d
        where d.journey_key = ${key}
          ${filter.profileId ? sql`and d.profile_id = ${filter.profileId}::uuid` : sql``}
          ${filter.status ? sql`and d.status = ${filter.status}` : sql``}
          ${filter.before ? sql`and (d.created_at, d.id) < (select b.created_at, b.id from offers.journey_deliveries b where b.id = ${filter.before}::uuid)` : sql``}
        order by d.created_at desc, d.id desc limit ${filter.limit}`,
    );
    return rows.map((r) => ({
      id: r.id,
      step: r.step_id,
      profileId: r.profile_id,
      channel: r.channel,
      status: r.status,
      attempts: r.tries.map((t) => ({ ...t, at: date(t.at).toISOString() })),
      lastError: r.last_error,
      createdAt: date(r.created_at).toISOString(),
      finishedAt: r.finished_at === null ? null : date(r.finished_at).toISOString(),
      payload: r.payload,
    }));
  }

  /** Per step: how many step runs of each outcome, deliveries of each status, and enrollments waiting at it. */
  async report(key: string): Promise<{
    enrollments: Array<{ status: string; count: number }>;
    runs: Array<{ step_id: string; outcome: string; detail_kind: string; count: number }>;
    deliveries: Array<{ step_id: string; status: string; count: number }>;
    waiting: Array<{ step_id: string | null; count: number }>;
  }> {
    const db = this.database.db;
    const count = (v: unknown) => Number(v);
    const enrollments = await queryRows<{ status: string; count: string }>(db, sql`select status, count(*) as count from offers.journey_enrollments where journey_key = ${key} group by status`);
    const runs = await queryRows<{ step_id: string; outcome: string; detail_kind: string; count: string }>(
      db,
      sql`select step_id, outcome, case when outcome = 'skipped' and detail like 'frequency cap%' then 'cap' else '' end as detail_kind, count(*) as count
        from offers.journey_step_runs where journey_key = ${key} group by 1, 2, 3`,
    );
    const deliveries = await queryRows<{ step_id: string; status: string; count: string }>(
      db,
      sql`select step_id, status, count(*) as count from offers.journey_deliveries where journey_key = ${key} group by 1, 2`,
    );
    const waiting = await queryRows<{ step_id: string | null; count: string }>(
      db,
      sql`select step_id, count(*) as count from offers.journey_enrollments where journey_key = ${key} and status = 'active' group by 1`,
    );
    return {
      enrollments: enrollments.map((r) => ({ ...r, count: count(r.count) })),
      runs: runs.map((r) => ({ ...r, count: count(r.count) })),
      deliveries: deliveries.map((r) => ({ ...r, count: count(r.count) })),
      waiting: waiting.map((r) => ({ ...r, count: count(r.count) })),
    };
  }
}
