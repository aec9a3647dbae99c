import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { sql } from 'drizzle-orm';
import { SUBJECTS, type ProfileActivityV1, type ProfileErasedV1, type ProfileMergedV1, type ProfileUpdatedV1 } from '@segmenta/contracts';
import { DATABASE, anyOf, jsonParam, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import { SegmentationConfig } from '../config';
import type * as tables from '../db/schema';
import { Clock } from '../membership/clock';
import { MembershipService, emptyTouch, type ProfileTouch } from '../membership/membership.service';
import type { RecordedChange, Tx } from '../membership/membership.repository';
import type { Catalog } from '../segments/segment-catalog.service';
import { MembershipRepository } from '../membership/membership.repository';

export type ProfilesMessage =
  | { type: typeof SUBJECTS.profilesUpdated; data: ProfileUpdatedV1 }
  | { type: typeof SUBJECTS.profilesActivity; data: ProfileActivityV1 }
  | { type: typeof SUBJECTS.profilesMerged; data: ProfileMergedV1 }
  | { type: typeof SUBJECTS.profilesErased; data: ProfileErasedV1 };

const DAY_MS = 86_400_000;

/** The behaviour name a rule's `event` matches: the track event's name; page and screen views by their type. */
export function behaviourName(activity: ProfileActivityV1): string | null {
  if (activity.type === 'track') return activity.name ?? null;
  if (activity.type === 'page') return 'Page Viewed';
  if (activity.type === 'screen') return 'Screen Viewed';
  return null;
}

interface View {
  traits: Record<string, unknown>;
  features: Record<string, unknown>;
}

/** Applies changed keys: null removes a key. */
function mergeChanged(current: Record<string, unknown>, changed: Record<string, unknown>): Record<string, unknown> {
  const next = { ...current };
  for (const [key, value] of Object.entries(changed)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/**
 * Keeps segmentation's read model of profiles (ARCHITECTURE §4: profile_view, behaviour_facts) from
 * the PROFILES stream and re-evaluates the segments each batch can affect, in one transaction; the
 * membership changes are published after the commit, before the batch is acked.
 */
@Injectable()
export class ReadModelService {
  private readonly logger = new Logger(ReadModelService.name);

  constructor(
    @Inject(DATABASE) private readonly database: Database<typeof tables>,
    private readonly memberships: MembershipService,
    private readonly repository: MembershipRepository,
    private readonly clock: Clock,
    private readonly config: SegmentationConfig,
  ) {}

  async apply(messages: ProfilesMessage[]): Promise<RecordedChange[]> {
    const started = performance.now();
    const catalog = await this.memberships.catalogNow();
    const changes = await withTransaction(this.database.db, (tx) => this.applyInTransaction(tx, messages, catalog), { attempts: 8 });
    // Published in commit order while the next batch is applied (the change log is the outbox).
    void this.memberships.publishInOrder(changes);
    this.logger.debug(`applied ${messages.length} messages, ${changes.length} membership changes, committed in ${(performance.now() - started).toFixed(0)} ms`);
    return changes;
  }

  private async applyInTransaction(tx: Tx, messages: ProfilesMessage[], catalog: Catalog): Promise<RecordedChange[]> {
    const involved = new Set<string>();
    for (const m of messages) {
      if (m.type === SUBJECTS.profilesMerged) involved.add(m.data.fromProfileId).add(m.data.intoProfileId);
      else if (m.type === SUBJECTS.profilesErased) [m.data.profileId, ...m.data.mergedProfileIds].forEach((id) => involved.add(id));
      else involved.add(m.data.profileId);
    }
    await this.repository.lockProfiles(tx, involved);

    const updatedIds = [...new Set(messages.filter((m) => m.type === SUBJECTS.profilesUpdated).map((m) => m.data.profileId as string))];
    const views = new Map<string, View>();
    if (updatedIds.length > 0) {
      const rows = await queryRows<{ profile_id: string; traits: Record<string, unknown>; features: Record<string, unknown> }>(
        tx,
        sql`select profile_id, traits, features from segmentation.profile_view where profile_id = ${anyOf(updatedIds, 'uuid')}`,
      );
      for (const r of rows) views.set(r.profile_id, { traits: r.traits, features: r.features });
    }
    const dirtyViews = new Set<string>();
    const facts: Array<{ event_id: string; profile_id: string; name: string; props: Record<string, unknown>; occurred_at: string }> = [];
    const merges: Array<{ from: string; into: string }> = [];
    const gone = new Set<string>();
    const touched = new Map<string, ProfileTouch>();
    const touch = (id: string) => {
      let t = touched.get(id);
      if (!t) touched.set(id, (t = emptyTouch()));
      return t;
    };
    const retentionStart = this.clock.now() - this.config.BEHAVIOUR_RETENTION_DAYS * DAY_MS;

    for (const m of messages) {
      switch (m.type) {
        case SUBJECTS.profilesUpdated: {
          const { profileId, traits, features, full } = m.data;
          const current = views.get(profileId);
          const next = full || !current ? { traits: mergeChanged({}, traits), features: mergeChanged({}, features) } : { traits: mergeChanged(current.traits, traits), features: mergeChanged(current.features, features) };
          views.set(profileId, next);
          dirtyViews.add(profileId);
          gone.delete(profileId);
          const t = touch(profileId);
          if (full || !current) t.all = true;
          Object.keys(traits).forEach((k) => t.traits.add(k));
          Object.keys(features).forEach((k) => t.features.add(k));
          break;
        }
        case SUBJECTS.profilesActivity: {
          const name = behaviourName(m.data);
          const at = Date.parse(m.data.occurredAt);
          if (name === null || at < retentionStart) break;
          facts.push({ event_id: m.data.eventId, profile_id: m.data.profileId, name, props: m.data.properties ?? {}, occurred_at: new Date(at).toISOString() });
          touch(m.data.profileId).events.add(name);
          break;
        }
        case SUBJECTS.profilesMerged:
          merges.push({ from: m.data.fromProfileId, into: m.data.intoProfileId });
          gone.add(m.data.fromProfileId);
          views.delete(m.data.fromProfileId);
          touch(m.data.intoProfileId).all = true;
          break;
        case SUBJECTS.profilesErased:
          for (const id of [m.data.profileId, ...m.data.mergedProfileIds]) {
            gone.add(id);
            views.delete(id);
            dirtyViews.delete(id);
          }
          break;
      }
    }

    const upserts = [...dirtyViews].filter((id) => !gone.has(id) && views.has(id)).map((id) => ({ profile_id: id, ...(views.get(id) as View) }));
    // Views and facts in one round trip.
    const viewsSql = sql`insert into segmentation.profile_view (profile_id, traits, features, updated_at)
        select profile_id, traits, features, now() from json_to_recordset(${jsonParam(upserts)}::json) as x(profile_id uuid, traits jsonb, features jsonb)
        on conflict (profile_id) do update set traits = excluded.traits, features = excluded.features, updated_at = now()`;
    const factsSql = sql`insert into segmentation.behaviour_facts (event_id, profile_id, name, props, occurred_at)
        select event_id, profile_id, name, props, occurred_at from json_to_recordset(${jsonParam(facts)}::json) as x(event_id text, profile_id uuid, name text, props jsonb, occurred_at timestamptz)
        on conflict (profile_id, event_id) do nothing`;
    if (upserts.length > 0 && facts.length > 0) await tx.execute(sql`with v as (${viewsSql}) ${factsSql}`);
    else if (upserts.length > 0) await tx.execute(viewsSql);
    else if (facts.length > 0) await tx.execute(factsSql);
    for (const { from, into } of merges) {
      await tx.execute(sql`update segmentation.behaviour_facts set profile_id = ${into} where profile_id = ${from}`);
    }
    const changes: RecordedChange[] = [];
    if (gone.size > 0) {
      const goneIds = [...gone];
      changes.push(...(await this.memberships.exitAll(tx, goneIds)));
      await tx.execute(sql`delete from segmentation.profile_view where profile_id = ${anyOf(goneIds, 'uuid')}`);
      // Merged-away profiles' facts were moved above; what is left belongs to erased profiles.
      await tx.execute(sql`delete from segmentation.behaviour_facts where profile_id = ${anyOf(goneIds, 'uuid')}`);
      for (const id of goneIds) touched.delete(id);
    }
    changes.push(...(await this.memberships.evaluateProfiles(tx, touched, catalog, new Set(upserts.map((u) => u.profile_id)))));
    return changes;
  }

  /** Facts older than the retention period go: no window can reach them. */
  @Cron('17 3 * * *', { name: 'behaviour-retention' })
  async applyRetention(): Promise<number> {
    const before = new Date(this.clock.now() - this.config.BEHAVIOUR_RETENTION_DAYS * DAY_MS).toISOString();
    const rows = await queryRows<{ n: number }>(this.database.db, sql`with d as (delete from segmentation.behaviour_facts where occurred_at < ${before}::timestamptz returning 1) select count(*)::int as n from d`);
    if (rows[0].n > 0) this.logger.log(`removed ${rows[0].n} behaviour facts older than ${this.config.BEHAVIOUR_RETENTION_DAYS} days`);
    return rows[0].n;
  }
}
