import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { DATABASE, type Database, type Db, anyOf, jsonParam, queryRows } from '@segmenta/persistence';
import type { CustomerIdentifiersV1 } from '@segmenta/contracts';
import type * as tables from '../db/schema';
import type { FeatureAccumulator, CustomerFeatures, LedgerEntry } from '../features/customer-features';

export type Tx = Pick<Db, 'execute'>;

export interface ProfileRow {
  id: string;
  traits: Record<string, unknown>;
  traitTimes: Record<string, string>;
  mergeCount: number;
  mergedInto: string | null;
  erasedAt: Date | null;
}

export interface NewEventRow {
  id: string;
  /** Sequence of the message in EVENTS (ADR 14: erasure deletes it there too). */
  stream_seq: number | null;
  profile_id: string | null;
  type: string;
  name: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  source_id: string;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
  occurred_at: string;
  received_at: string;
}

export interface MergeHistoryRow {
  from_profile_id: string;
  into_profile_id: string;
  status: 'merged' | 'refused';
  reason: string;
  identifier: string;
  event_id: string | null;
  detail: string | null;
}

interface FeatureRowJson {
  profile_id: string;
  first_seen: string | null;
  last_seen: string | null;
  event_count: number;
  orders: number;
  revenue: number;
  currency: string;
  revenue_other: Record<string, number>;
  first_order_at: string | null;
  last_order_at: string | null;
  aov: number | null;
  recency_days: number | null;
  tenure_days: number | null;
  rfm_r: number | null;
  rfm_f: number | null;
  rfm_m: number | null;
  p_alive: number | null;
  expected_orders_90d: number | null;
  clv: number | null;
  churn_risk: number | null;
  lifecycle_stage: string;
  category_scores: { ref: string; scores: Record<string, number> };
  category_affinity: Record<string, number>;
  top_category: string | null;
  top_category_share: number | null;
  order_ledger: Record<string, LedgerEntry>;
}

const FEATURE_COLUMNS = `profile_id uuid, first_seen timestamptz, last_seen timestamptz, event_count int, orders int, revenue bigint, currency text,
  revenue_other jsonb, first_order_at timestamptz, last_order_at timestamptz, aov bigint, recency_days int, tenure_days int, rfm_r smallint,
  rfm_f smallint, rfm_m smallint, p_alive real, expected_orders_90d real, clv bigint, churn_risk real, lifecycle_stage text,
  category_scores jsonb, category_affinity jsonb, top_category text, top_category_share real, order_ledger jsonb`;
const FEATURE_NAMES = FEATURE_COLUMNS.split(',').map((c) => c.trim().split(/\s+/)[0]);

const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));

/** Stored features as the fold's accumulator plus the model columns it does not compute. */
export interface StoredFeatures {
  accumulator: FeatureAccumulator;
  model: { pAlive: number | null; expectedOrders90d: number | null; clv: number | null };
  row: Record<string, unknown>;
}

/**
 * The SQL of identity resolution and feature updates; every method runs inside the caller's transaction.
 * Hand-written on purpose: this is the per-batch path that `npm run bench -- --only=profiles` measures
 * (one JSON parameter and one round trip per batch, which the typed builder cannot express).
 */
@Injectable()
export class ProfileStoreRepository {
  constructor(@Inject(DATABASE) readonly database: Database<typeof tables>) {}

  /**
   * Transaction-scoped advisory locks on the identifiers, in one fixed order (no deadlock between
   * two batches): two transactions that share an identifier run one after the other.
   */
  async lockIdentifiers(tx: Tx, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): all of a batch's locks in one statement.
    await tx.execute(sql`select count(pg_advisory_xact_lock(k)) from (select distinct hashtextextended(v, 7) as k from json_array_elements_text(${jsonParam(keys)}::json) v order by 1) s`);
  }

  async findIdentities(tx: Tx, identifiers: Array<{ kind: string; value: string }>): Promise<Map<string, string>> {
    if (identifiers.length === 0) return new Map();
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): a batch's identifiers in one round trip.
    const rows = await queryRows<{ kind: string; value: string; profile_id: string }>(
      tx,
      // One index look-up per identifier: as a plain join the planner, assuming 100 identifiers,
      // hashes them and scans the whole table once it holds a few thousand rows. OFFSET 0 keeps
      // the lateral subquery from being flattened back into that join.
      sql`select i.kind, i.value, i.profile_id from json_to_recordset(${jsonParam(identifiers)}::json) as x(kind text, value text)
          cross join lateral (select * from profiles.identities i where i.kind = x.kind and i.value = x.value offset 0) i`,
    );
    return new Map(rows.map((r) => [`${r.kind}:${r.value}`, r.profile_id]));
  }

  /** Locks the profiles (in id order) and returns them. */
  async lockProfiles(tx: Tx, ids: string[]): Promise<ProfileRow[]> {
    if (ids.length === 0) return [];
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): a batch's profiles locked in one statement.
    const rows = await queryRows<{ id: string; traits: Record<string, unknown>; trait_times: Record<string, string>; merge_count: number; merged_into: string | null; erased_at: string | null }>(
      tx,
      sql`select id, traits, trait_times, merge_count, merged_into, erased_at from profiles.profiles
          where id = ${anyOf(ids, 'uuid')} order by id for update`,
    );
    return rows.map((r) => ({ id: r.id, traits: r.traits, traitTimes: r.trait_times, mergeCount: r.merge_count, mergedInto: r.merged_into, erasedAt: date(r.erased_at) }));
  }

  async identityCounts(tx: Tx, profileIds: string[]): Promise<Map<string, Record<string, number>>> {
    const counts = new Map<string, Record<string, number>>();
    if (profileIds.length === 0) return counts;
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): a batch's counts in one round trip.
    const rows = await queryRows<{ profile_id: string; kind: string; n: number }>(
      tx,
      sql`select profile_id, kind, count(*)::int as n from profiles.identities
          where profile_id = ${anyOf(profileIds, 'uuid')} group by 1, 2`,
    );
    for (const row of rows) counts.set(row.profile_id, { ...(counts.get(row.profile_id) ?? {}), [row.kind]: row.n });
    return counts;
  }

  async insertProfiles(tx: Tx, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): one JSON parameter per batch.
    await tx.execute(sql`insert into profiles.profiles (id) select json_array_elements_text(${jsonParam(ids)}::json)::uuid`);
  }

  /** Moves everything of `from` to `into` and marks `from` merged; `into`'s features are recomputed by the caller. */
  async mergeProfile(tx: Tx, from: string, into: string): Promise<void> {
    await tx.execute(sql`update profiles.identities set profile_id = ${into} where profile_id = ${from}`);
    await tx.execute(sql`update profiles.events set profile_id = ${into} where profile_id = ${from}`);
    await tx.execute(sql`update profiles.profiles set merged_into = ${into}, updated_at = now() where merged_into = ${from} or id = ${from}`);
    await tx.execute(sql`delete from profiles.profile_features where profile_id = ${from}`);
  }

  async insertMergeHistory(tx: Tx, rows: MergeHistoryRow[]): Promise<void> {
    if (rows.length === 0) return;
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): one JSON parameter per batch.
    await tx.execute(sql`insert into profiles.merges (from_profile_id, into_profile_id, status, reason, identifier, event_id, detail)
      select * from json_to_recordset(${jsonParam(rows)}::json) as x(from_profile_id uuid, into_profile_id uuid, status text, reason text, identifier text, event_id text, detail text)`);
  }

  /** Per profile, its first user id and e-mail (what member lists show), in the caller's transaction. */
  async displayIdentifiers(tx: Tx, profileIds: string[]): Promise<Map<string, CustomerIdentifiersV1>> {
    const out = new Map<string, CustomerIdentifiersV1>();
    if (profileIds.length === 0) return out;
    const rows = await queryRows<{ profile_id: string; kind: string; value: string }>(
      tx,
      sql`select distinct on (profile_id, kind) profile_id, kind, value from profiles.identities
          where profile_id = ${anyOf(profileIds, 'uuid')} and kind in ('user_id', 'email') order by profile_id, kind, created_at, value`,
    );
    for (const row of rows) {
      const identifiers = out.get(row.profile_id) ?? {};
      if (row.kind === 'user_id') identifiers.userId = row.value;
      else identifiers.email = row.value;
      out.set(row.profile_id, identifiers);
    }
    return out;
  }

  /** Per profile, its most recent anonymous ids (at most `limit`), in the caller's transaction. */
  async recentAnonymousIds(tx: Tx, profileIds: string[], limit: number): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (profileIds.length === 0) return out;
    const rows = await queryRows<{ profile_id: string; value: string }>(
      tx,
      sql`select profile_id, value from (
            select profile_id, value, row_number() over (partition by profile_id order by created_at desc, value) as n
            from profiles.identities where profile_id = ${anyOf(profileIds, 'uuid')} and kind = 'anonymous_id'
          ) recent where n <= ${limit} order by profile_id, n`,
    );
    for (const row of rows) out.set(row.profile_id, [...(out.get(row.profile_id) ?? []), row.value]);
    return out;
  }

  async insertIdentities(tx: Tx, rows: Array<{ kind: string; value: string; profileId: string }>): Promise<number> {
    if (rows.length === 0) return 0;
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): one JSON parameter per batch.
    const inserted = await queryRows<{ kind: string }>(
      tx,
      sql`insert into profiles.identities (kind, value, profile_id)
          select kind, value, profile_id from json_to_recordset(${jsonParam(rows.map((r) => ({ kind: r.kind, value: r.value, profile_id: r.profileId })))}::json)
            as x(kind text, value text, profile_id uuid)
          on conflict (kind, value) do nothing returning kind`,
    );
    return inserted.length;
  }

  async insertEvents(tx: Tx, rows: NewEventRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): one JSON parameter per batch.
    const inserted = await queryRows<{ id: string }>(
      tx,
      sql`insert into profiles.events (id, stream_seq, profile_id, type, name, user_id, anonymous_id, source_id, properties, traits, context, occurred_at, received_at)
          select id, stream_seq, profile_id, type, name, user_id, anonymous_id, source_id, properties, traits, context, occurred_at, received_at
          from json_to_recordset(${jsonParam(rows)}::json) as x(id text, stream_seq bigint, profile_id uuid, type text, name text, user_id text, anonymous_id text,
            source_id text, properties jsonb, traits jsonb, context jsonb, occurred_at timestamptz, received_at timestamptz)
          on conflict (source_id, id) do nothing returning id`,
    );
    return inserted.length;
  }

  async updateProfiles(tx: Tx, rows: Array<{ id: string; traits: Record<string, unknown>; traitTimes: Record<string, string>; mergeCount: number }>): Promise<void> {
    if (rows.length === 0) return;
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): one JSON parameter per batch.
    // The anyOf on p.id makes the planner probe the primary key rather than hash-join the record set with every profile.
    await tx.execute(sql`update profiles.profiles p set traits = x.traits, trait_times = x.trait_times, merge_count = x.merge_count, updated_at = now()
      from json_to_recordset(${jsonParam(rows.map((r) => ({ id: r.id, traits: r.traits, trait_times: r.traitTimes, merge_count: r.mergeCount })))}::json)
        as x(id uuid, traits jsonb, trait_times jsonb, merge_count int)
      where p.id = x.id and p.id = ${anyOf(
        rows.map((r) => r.id),
        'uuid',
      )}`);
  }

  async loadFeatures(tx: Tx, profileIds: string[]): Promise<Map<string, StoredFeatures>> {
    const result = new Map<string, StoredFeatures>();
    if (profileIds.length === 0) return result;
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): a batch's features in one round trip.
    const rows = await queryRows<FeatureRowJson>(tx, sql`select * from profiles.profile_features where profile_id = ${anyOf(profileIds, 'uuid')}`);
    for (const row of rows) result.set(row.profile_id, toStoredFeatures(row));
    return result;
  }

  /** A profile's events as the feature fold reads them, for recomputing from scratch. */
  async loadFeatureEvents(tx: Tx, profileIds: string[]): Promise<Array<{ profileId: string; id: string; type: string; name: string | null; properties: Record<string, unknown>; occurredAt: Date }>> {
    if (profileIds.length === 0) return [];
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): the events of a batch's merged profiles in one round trip.
    const rows = await queryRows<{ profile_id: string; id: string; type: string; name: string | null; properties: Record<string, unknown>; occurred_at: string }>(
      tx,
      sql`select profile_id, id, type, name, properties, occurred_at from profiles.events
          where profile_id = ${anyOf(profileIds, 'uuid')} order by profile_id, occurred_at`,
    );
    return rows.map((r) => ({ profileId: r.profile_id, id: r.id, type: r.type, name: r.name, properties: r.properties, occurredAt: new Date(r.occurred_at) }));
  }

  async upsertFeatures(tx: Tx, rows: Array<{ profileId: string; features: CustomerFeatures }>): Promise<void> {
    if (rows.length === 0) return;
    const json = rows.map(({ profileId, features: f }) => toFeatureRow(profileId, f));
    const assignments = FEATURE_NAMES.filter((n) => n !== 'profile_id')
      .map((n) => `${n} = excluded.${n}`)
      .join(', ');
    // Hand-written for `npm run bench -- --only=ingestion` (events applied by profiles): one JSON parameter per batch.
    await tx.execute(sql`insert into profiles.profile_features (${sql.raw(FEATURE_NAMES.join(', '))}, updated_at)
      select *, now() from json_to_recordset(${jsonParam(json)}::json) as x(${sql.raw(FEATURE_COLUMNS)})
      on conflict (profile_id) do update set ${sql.raw(assignments)}, updated_at = now()`);
  }
}

export function toStoredFeatures(row: FeatureRowJson): StoredFeatures {
  return {
    accumulator: {
      firstSeen: date(row.first_seen),
      lastSeen: date(row.last_seen),
      eventCount: row.event_count,
      orders: row.orders,
      revenue: Number(row.revenue),
      revenueOther: row.revenue_other,
      firstOrderAt: date(row.first_order_at),
      lastOrderAt: date(row.last_order_at),
      categoryScores: row.category_scores,
      orderLedger: row.order_ledger ?? {},
    },
    model: { pAlive: row.p_alive, expectedOrders90d: row.expected_orders_90d, clv: row.clv === null ? null : Number(row.clv) },
    row: row as unknown as Record<string, unknown>,
  };
}

/** A stored row in the published shape (`publicFeatures`), to tell what a change changed. */
export function storedPublicFeatures(row: Record<string, unknown>): Record<string, unknown> {
  const iso = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string).toISOString());
  const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    first_seen: iso(row.first_seen),
    last_seen: iso(row.last_seen),
    event_count: row.event_count,
    orders: row.orders,
    revenue: num(row.revenue),
    currency: row.currency,
    revenue_other: row.revenue_other,
    first_order_at: iso(row.first_order_at),
    last_order_at: iso(row.last_order_at),
    aov: num(row.aov),
    recency_days: row.recency_days,
    tenure_days: row.tenure_days,
    rfm_r: row.rfm_r,
    rfm_f: row.rfm_f,
    rfm_m: row.rfm_m,
    p_alive: num(row.p_alive),
    expected_orders_90d: num(row.expected_orders_90d),
    clv: num(row.clv),
    churn_risk: num(row.churn_risk),
    lifecycle_stage: row.lifecycle_stage,
    category_affinity: row.category_affinity,
    top_category: row.top_category,
    top_category_share: num(row.top_category_share),
    ...propensityFeatures(row),
  };
}

/** Propensity scores as the features rules read: `propensity_<model name>`. */
export function propensityFeatures(row: Record<string, unknown>): Record<string, number> {
  const scores = (row.propensities ?? {}) as Record<string, number>;
  return Object.fromEntries(Object.entries(scores).map(([name, score]) => [`propensity_${name}`, score]));
}

function toFeatureRow(profileId: string, f: CustomerFeatures): FeatureRowJson {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    profile_id: profileId,
    first_seen: iso(f.firstSeen),
    last_seen: iso(f.lastSeen),
    event_count: f.eventCount,
    orders: f.orders,
    revenue: f.revenue,
    currency: f.currency,
    revenue_other: f.revenueOther,
    first_order_at: iso(f.firstOrderAt),
    last_order_at: iso(f.lastOrderAt),
    aov: f.aov,
    recency_days: f.recencyDays,
    tenure_days: f.tenureDays,
    rfm_r: f.rfmR,
    rfm_f: f.rfmF,
    rfm_m: f.rfmM,
    p_alive: f.pAlive,
    expected_orders_90d: f.expectedOrders90d,
    clv: f.clv,
    churn_risk: f.churnRisk,
    lifecycle_stage: f.lifecycleStage,
    category_scores: f.categoryScores,
    category_affinity: f.categoryAffinity,
    top_category: f.topCategory,
    top_category_share: f.topCategoryShare,
    order_ledger: f.orderLedger,
  };
}
