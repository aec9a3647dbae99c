import { Inject, Injectable } from '@nestjs/common';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { CustomerIdentifiersV1 } from '@segmenta/contracts';
import { DATABASE, anyOf, jsonParam, type Database, type Db } from '@segmenta/persistence';
import * as tables from '../db/schema';

const { behaviourFacts, profileView } = tables;

type Tx = Pick<Db<typeof tables>, 'select' | 'update' | 'delete' | 'execute'>;

export interface ViewRow {
  profile_id: string;
  traits: Record<string, unknown>;
  features: Record<string, unknown>;
  identifiers: CustomerIdentifiersV1;
}

export interface FactRow {
  event_id: string;
  profile_id: string;
  name: string;
  props: Record<string, unknown>;
  occurred_at: string;
}

/** The read model of profiles (profile_view, behaviour_facts), written from the PROFILES stream. */
@Injectable()
export class ReadModelRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  async views(tx: Tx, profileIds: string[]): Promise<Array<{ profileId: string; traits: Record<string, unknown>; features: Record<string, unknown>; identifiers: CustomerIdentifiersV1 }>> {
    if (profileIds.length === 0) return [];
    return tx
      .select({ profileId: profileView.profileId, traits: profileView.traits, features: profileView.features, identifiers: profileView.identifiers })
      .from(profileView)
      .where(sql`${profileView.profileId} = ${anyOf(profileIds, 'uuid')}`);
  }

  /** Upserts the views and inserts the facts (a fact seen before is skipped), in one round trip. */
  async write(tx: Tx, upserts: ViewRow[], facts: FactRow[]): Promise<void> {
    // Hand-written for `npm run bench -- --only=segmentation` (real-time): one JSON parameter per batch, views and facts in one statement.
    const viewsSql = sql`insert into segmentation.profile_view (profile_id, traits, features, identifiers, updated_at)
        select profile_id, traits, features, identifiers, now() from json_to_recordset(${jsonParam(upserts)}::json) as x(profile_id uuid, traits jsonb, features jsonb, identifiers jsonb)
        on conflict (profile_id) do update set traits = excluded.traits, features = excluded.features, identifiers = excluded.identifiers, updated_at = now()`;
    const factsSql = sql`insert into segmentation.behaviour_facts (event_id, profile_id, name, props, occurred_at)
        select event_id, profile_id, name, props, occurred_at from json_to_recordset(${jsonParam(facts)}::json) as x(event_id text, profile_id uuid, name text, props jsonb, occurred_at timestamptz)
        on conflict (profile_id, event_id) do nothing`;
    if (upserts.length > 0 && facts.length > 0) await tx.execute(sql`with v as (${viewsSql}) ${factsSql}`);
    else if (upserts.length > 0) await tx.execute(viewsSql);
    else if (facts.length > 0) await tx.execute(factsSql);
  }

  /** A merge: the merged-away profile's facts become the surviving profile's. */
  async moveFacts(tx: Tx, from: string, into: string): Promise<void> {
    await tx.update(behaviourFacts).set({ profileId: into }).where(eq(behaviourFacts.profileId, from));
  }

  /** Drops the views and facts of profiles that are gone (merged away or erased). */
  async remove(tx: Tx, profileIds: string[]): Promise<void> {
    await tx.delete(profileView).where(sql`${profileView.profileId} = ${anyOf(profileIds, 'uuid')}`);
    await tx.delete(behaviourFacts).where(sql`${behaviourFacts.profileId} = ${anyOf(profileIds, 'uuid')}`);
  }

  /** Deletes the facts that happened before `before`; returns how many. */
  /**
   * Up to `limit` profiles after `after` (in id order) with facts older than `before`: the
   * retention purge walks them once along the (profile_id, occurred_at) index, instead of scanning
   * every fact again for each batch.
   */
  async profilesWithFactsBefore(before: Date, limit: number, after?: string): Promise<string[]> {
    const rows = await this.database.db
      .selectDistinct({ profileId: behaviourFacts.profileId })
      .from(behaviourFacts)
      .where(and(lt(behaviourFacts.occurredAt, before), after === undefined ? undefined : gt(behaviourFacts.profileId, after)))
      .orderBy(behaviourFacts.profileId)
      .limit(limit);
    return rows.map((r) => r.profileId);
  }

  /** Deletes these profiles' facts older than `before`; returns each deleted fact's profile and name. */
  async deleteFactsBefore(tx: Tx, profileIds: string[], before: Date): Promise<Array<{ profileId: string; name: string }>> {
    return tx
      .delete(behaviourFacts)
      .where(and(sql`${behaviourFacts.profileId} = ${anyOf(profileIds, 'uuid')}`, lt(behaviourFacts.occurredAt, before)))
      .returning({ profileId: behaviourFacts.profileId, name: behaviourFacts.name });
  }
}
