import type { ExperimentChangedV1 } from '@segmenta/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { DATABASE, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import * as tables from '../db/schema';
import type { OfferRow, OffersTx } from '../catalog/offers.repository';
import type { ProfileReference } from '../read-model/eligibility-lookup';
import { identifierOf } from '../read-model/eligibility-lookup';
import type { ProfileFacts } from '../read-model/profile-facts';
import { toProfileFacts, type ProfileFactsRow } from '../read-model/read-model.repository';

/** What one personalized request asks of the database besides the customer: from the active catalog. */
export interface CustomerViewLookups {
  /** Offers with a per-customer limit, and the earliest redemption any of their limits counts (null: all). */
  limitedOfferIds: string[];
  usesSince: Date | null;
  /** Offers with a pool of unique codes. */
  uniqueOfferIds: string[];
}

/** A customer as the personalized offers API sees them, read in one statement. */
export interface CustomerView {
  /** offers.catalog_version when read: the in-memory catalog reloads when it differs. */
  catalogVersion: number;
  /** The profile the reference means now (merges followed); null: unknown or erased. */
  profileId: string | null;
  /** The survivor the id was merged into was itself merged or erased (gone_profiles normally points at the last survivor). */
  chained: boolean;
  facts: ProfileFacts | null;
  /** The keys of every segment the profile is a member of, and its loyalty tier as tierMembershipKey. */
  segments: Set<string>;
  /** Non-cancelled redemptions of the limited offers since `usesSince`, by offer id. */
  uses: Map<string, Date[]>;
  /** The unique code reserved for the profile, by offer id. */
  reservedCodes: Map<string, string>;
}

/**
 * The customers of a round of personalized requests, in one statement: `$1` kinds and `$2` values
 * of their references (kind profile_id: the value is the id, checked a UUID before), then the
 * limited offers' ids, the earliest use they count (null: all), and the unique-code offers' ids.
 * A text constant, so that it runs as a named prepared statement.
 */
const CUSTOMERS = `with given as (
    select g.n, case when g.kind = 'profile_id' then g.value::uuid
      else (select i.profile_id from offers.profile_identifiers i where i.kind = g.kind and i.value = g.value) end as id
    from unnest($1::text[], $2::text[]) with ordinality as g(kind, value, n)),
  resolved as (
    select given.n, case when g.profile_id is null then given.id else g.merged_into end as id, g2.profile_id is not null as chained
    from given left join offers.gone_profiles g on g.profile_id = given.id left join offers.gone_profiles g2 on g2.profile_id = g.merged_into)
  select r.n, (select version from offers.catalog_version where id = 1) as catalog_version, r.id as profile_id, r.chained,
    (select row_to_json(f) from offers.profile_facts f where f.profile_id = r.id) as facts,
    array(select m.segment_key from offers.membership_view m where m.profile_id = r.id and m.member
      union all select 'tier:' || a.tier from offers.loyalty_accounts a where a.profile_id = r.id and a.tier is not null) as segments,
    (select json_agg(json_build_array(x.offer_id, x.redeemed_at)) from offers.redemptions x
      where x.profile_id = r.id and x.status = 'redeemed' and x.offer_id = any($3::uuid[])
        and ($4::timestamptz is null or x.redeemed_at >= $4::timestamptz)) as uses,
    (select json_agg(json_build_array(c.offer_id, c.code)) from offers.coupon_codes c
      where c.reserved_for = r.id and c.status = 'reserved' and c.offer_id = any($5::uuid[])) as codes
  from resolved r order by r.n`;

/** The SQL of the personalized offers API: what can be served now, a customer's uses, and code reservations. */
@Injectable()
export class PersonalizationRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  transaction<T>(work: (tx: OffersTx) => Promise<T>): Promise<T> {
    return withTransaction(this.database.db, work);
  }

  /** Every active offer, and offers.catalog_version of the same snapshot; the names of segments and of loyalty tiers by key. */
  async activeCatalog(): Promise<{ version: number; offers: OfferRow[]; segmentNames: Record<string, string>; tierNames: Record<string, string>; experiments: ExperimentChangedV1[] }> {
    const o = tables.offers;
    const v = tables.catalogVersion;
    const rows = await this.database.db.select({ version: v.version, offer: o }).from(v).leftJoin(o, eq(o.status, 'active')).where(eq(v.id, 1)).orderBy(desc(o.priority), asc(o.key));
    const names = await this.database.db.select({ key: tables.segmentNames.segmentKey, name: tables.segmentNames.name }).from(tables.segmentNames);
    const tiers = await this.database.db.select({ key: tables.tiers.key, name: tables.tiers.name }).from(tables.tiers);
    const experiments = await this.database.db.select({ rules: tables.experimentRules.rules }).from(tables.experimentRules).where(eq(tables.experimentRules.status, 'running'));
    return {
      experiments: experiments.map((e) => e.rules),
      tierNames: Object.fromEntries(tiers.map((t) => [t.key, t.name])),
      version: rows[0]?.version ?? 0,
      offers: rows.flatMap((r) => (r.offer ? [r.offer] : [])),
      segmentNames: Object.fromEntries(names.map((n) => [n.key, n.name])),
    };
  }

  /**
   * Everything a personalized request needs of its customer, for a round of requests in one
   * prepared statement (planned once per connection): the profile each reference resolves to (one
   * merge hop: gone_profiles points at the last survivor), its facts, every segment it is a member
   * of, its uses of limited offers, its reserved codes, and the catalog version.
   */
  async customerViews(references: ProfileReference[], lookups: CustomerViewLookups): Promise<CustomerView[]> {
    const given = references.map((reference) => identifierOf(reference) ?? { kind: 'profile_id', value: (reference as { profileId: string }).profileId });
    const rows = await this.database.prepared<{
      catalog_version: string | number | null;
      profile_id: string | null;
      chained: boolean;
      facts: ProfileFactsRow | null;
      segments: string[];
      uses: Array<[string, string]> | null;
      codes: Array<[string, string]> | null;
    }>('offers_customers', CUSTOMERS, [given.map((g) => g.kind), given.map((g) => g.value), lookups.limitedOfferIds, lookups.usesSince?.toISOString() ?? null, lookups.uniqueOfferIds]);
    return rows.map((row) => {
      const uses = new Map<string, Date[]>();
      for (const [offerId, at] of row.uses ?? []) uses.set(offerId, [...(uses.get(offerId) ?? []), new Date(at)]);
      return {
        catalogVersion: Number(row.catalog_version ?? 0),
        profileId: row.profile_id,
        chained: row.chained,
        facts: row.facts ? toProfileFacts(row.facts) : null,
        segments: new Set(row.segments),
        uses,
        reservedCodes: new Map(row.codes ?? []),
      };
    });
  }

  /** offers.catalog_version now: what the in-memory catalog must have reached to answer as of now. */
  async catalogVersion(): Promise<number> {
    const [row] = await this.database.db.select({ version: tables.catalogVersion.version }).from(tables.catalogVersion).where(eq(tables.catalogVersion.id, 1));
    return row?.version ?? 0;
  }

  /** The code of the offer's pool reserved for this customer, if any. */
  async reservedCode(tx: OffersTx, offerId: string, profileId: string): Promise<string | undefined> {
    const c = tables.couponCodes;
    const rows = await tx
      .select({ code: c.code })
      .from(c)
      .where(and(eq(c.offerId, offerId), eq(c.reservedFor, profileId), eq(c.status, 'reserved')))
      .limit(1);
    return rows[0]?.code;
  }

  /** Serialises reservations of one offer's codes for one customer until the transaction ends. */
  async lockReservation(tx: OffersTx, offerId: string, profileId: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`reserve:${offerId}:${profileId}`}, 20))`);
  }

  /**
   * Reserves one available code for the customer in one conditional UPDATE; codes locked by another
   * customer's reservation are skipped, not waited for. undefined: the pool has no code left.
   */
  async reserveCode(tx: OffersTx, offerId: string, profileId: string): Promise<string | undefined> {
    const rows = await queryRows<{ code: string }>(
      tx,
      sql`update offers.coupon_codes set status = 'reserved', reserved_for = ${profileId}::uuid
        where offer_id = ${offerId}::uuid and code = (
          select code from offers.coupon_codes where offer_id = ${offerId}::uuid and status = 'available' order by code limit 1 for update skip locked)
        and status = 'available'
        returning code`,
    );
    return rows[0]?.code;
  }
}
