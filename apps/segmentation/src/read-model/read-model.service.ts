import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { SUBJECTS, type CustomerIdentifiersV1, type LoyaltyTierChangedV1, type ProfileActivityV1, type ProfileErasedV1, type ProfileMergedV1, type ProfileUpdatedV1 } from '@segmenta/contracts';
import { Inbox, Outbox } from '@segmenta/messaging';
import { DATABASE, withTransaction, type Database, type Db } from '@segmenta/persistence';
import { SegmentationConfig } from '../config';
import type * as tables from '../db/schema';
import { Clock } from '../membership/clock';
import { MembershipService, emptyTouch, type ProfileTouch } from '../membership/membership.service';
import type { RecordedChange } from '../membership/membership.repository';
import type { Catalog } from '../segments/segment-catalog.service';
import { MembershipRepository } from '../membership/membership.repository';
import { ReadModelRepository, type FactRow } from './read-model.repository';

/** A PROFILES message: its envelope id (for the inbox), type and data. */
export type ProfilesMessage = { id: string } & (
  | { type: typeof SUBJECTS.profilesUpdated; data: ProfileUpdatedV1 }
  | { type: typeof SUBJECTS.profilesActivity; data: ProfileActivityV1 }
  | { type: typeof SUBJECTS.profilesMerged; data: ProfileMergedV1 }
  | { type: typeof SUBJECTS.profilesErased; data: ProfileErasedV1 }
);

const DAY_MS = 86_400_000;

/**
 * The trait a customer's loyalty tier is kept under (issue 19), from offers' loyalty.tier_changed:
 * usable in rules (`{ trait: 'loyalty_tier', op: 'eq', value: 'gold' }`). Profiles does not know it,
 * so a full profiles.updated (a merge, a republish) keeps it.
 */
export const LOYALTY_TIER_TRAIT = 'loyalty_tier';

/** A loyalty.tier_changed message: its envelope id (for the inbox) and data. */
export interface TierChangedMessage {
  id: string;
  data: LoyaltyTierChangedV1;
}
/** Profiles whose old facts one transaction of the retention purge removes (and re-evaluates). */
const RETENTION_PROFILES_PER_TRANSACTION = 1000;

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
  identifiers: CustomerIdentifiersV1;
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
 * the PROFILES stream and re-evaluates the segments each batch can affect, in one transaction with
 * the membership changes' messages (outbox) and the applied envelope ids (inbox).
 */
@Injectable()
export class ReadModelService {
  private readonly logger = new Logger(ReadModelService.name);
  private readonly inbox = new Inbox('segmentation', 'segmentation-profiles');
  private readonly tiersInbox = new Inbox('segmentation', 'segmentation-loyalty-tiers');

  constructor(
    @Inject(DATABASE) private readonly database: Database<typeof tables>,
    private readonly memberships: MembershipService,
    private readonly repository: MembershipRepository,
    private readonly clock: Clock,
    private readonly config: SegmentationConfig,
    private readonly readModel: ReadModelRepository,
    private readonly outbox: Outbox,
  ) {}

  async apply(messages: ProfilesMessage[]): Promise<RecordedChange[]> {
    const started = performance.now();
    const catalog = await this.memberships.catalogNow();
    const changes = await withTransaction(this.database.db, (tx) => this.applyInTransaction(tx, messages, catalog), { attempts: 8 });
    if (changes.length > 0) this.memberships.announced();
    this.logger.debug(`applied ${messages.length} messages, ${changes.length} membership changes, committed in ${(performance.now() - started).toFixed(0)} ms`);
    return changes;
  }

  /**
   * Loyalty tiers into the profiles' trait loyalty_tier (a profile segmentation has not heard of yet
   * gets a view with that trait alone), and the segments that read it re-evaluated, in one transaction.
   */
  async applyTierChanges(delivered: TierChangedMessage[]): Promise<RecordedChange[]> {
    const catalog = await this.memberships.catalogNow();
    const changes = await withTransaction(
      this.database.db,
      async (tx) => {
        const fresh = await this.tiersInbox.claim(
          tx,
          delivered.map((m) => m.id),
        );
        const messages = delivered.filter((m) => fresh.has(m.id));
        if (messages.length === 0) return [];
        const ids = [...new Set(messages.map((m) => m.data.profileId))];
        await this.repository.lockProfiles(tx, ids);
        const views = new Map<string, View>();
        for (const r of await this.readModel.views(tx, ids)) views.set(r.profileId, { traits: r.traits, features: r.features, identifiers: r.identifiers });
        const touched = new Map<string, ProfileTouch>();
        for (const { data } of messages) {
          const view = views.get(data.profileId) ?? { traits: {}, features: {}, identifiers: {} };
          views.set(data.profileId, { ...view, traits: mergeChanged(view.traits, { [LOYALTY_TIER_TRAIT]: data.to }) });
          const t = touched.get(data.profileId) ?? emptyTouch();
          t.traits.add(LOYALTY_TIER_TRAIT);
          touched.set(data.profileId, t);
        }
        const upserts = [...touched.keys()].map((id) => ({ profile_id: id, ...(views.get(id) as View) }));
        await this.readModel.write(tx, upserts, []);
        return this.memberships.evaluateProfiles(tx, touched, catalog, new Set(upserts.map((u) => u.profile_id)));
      },
      { attempts: 8 },
    );
    if (changes.length > 0) this.memberships.announced();
    return changes;
  }

  private async applyInTransaction(tx: Pick<Db<typeof tables>, 'select' | 'update' | 'delete' | 'execute'>, delivered: ProfilesMessage[], catalog: Catalog): Promise<RecordedChange[]> {
    // Envelopes applied before (a redelivery after a crash, or past JetStream's dedupe window) change nothing.
    const fresh = await this.inbox.claim(
      tx,
      delivered.map((m) => m.id),
    );
    const messages = delivered.filter((m) => fresh.has(m.id));
    if (messages.length === 0) return [];
    const involved = new Set<string>();
    for (const m of messages) {
      if (m.type === SUBJECTS.profilesMerged) involved.add(m.data.fromProfileId).add(m.data.intoProfileId);
      else if (m.type === SUBJECTS.profilesErased) [m.data.profileId, ...m.data.mergedProfileIds].forEach((id) => involved.add(id));
      else involved.add(m.data.profileId);
    }
    await this.repository.lockProfiles(tx, involved);

    const updatedIds = [...new Set(messages.filter((m) => m.type === SUBJECTS.profilesUpdated).map((m) => m.data.profileId as string))];
    const views = new Map<string, View>();
    for (const r of await this.readModel.views(tx, updatedIds)) views.set(r.profileId, { traits: r.traits, features: r.features, identifiers: r.identifiers });
    const dirtyViews = new Set<string>();
    const facts: FactRow[] = [];
    const merges: Array<{ from: string; into: string }> = [];
    const gone = new Set<string>();
    const erased: string[] = [];
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
          // Identifiers come when they change (absent: keep what is known). Member lists show the ones a
          // marketer recognises: a user id and an e-mail, not the devices' anonymous ids.
          const { userId, email } = m.data.identifiers ?? {};
          const identifiers = { ...(current?.identifiers ?? {}), ...(userId === undefined ? {} : { userId }), ...(email === undefined ? {} : { email }) };
          const tier = current?.traits[LOYALTY_TIER_TRAIT];
          const next =
            full || !current
              ? { traits: { ...mergeChanged({}, traits), ...(tier === undefined ? {} : { [LOYALTY_TIER_TRAIT]: tier }) }, features: mergeChanged({}, features), identifiers }
              : { traits: mergeChanged(current.traits, traits), features: mergeChanged(current.features, features), identifiers };
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
            erased.push(id);
            gone.add(id);
            views.delete(id);
            dirtyViews.delete(id);
          }
          break;
      }
    }

    const upserts = [...dirtyViews].filter((id) => !gone.has(id) && views.has(id)).map((id) => ({ profile_id: id, ...(views.get(id) as View) }));
    await this.readModel.write(tx, upserts, facts);
    for (const { from, into } of merges) await this.readModel.moveFacts(tx, from, into);
    const changes: RecordedChange[] = [];
    // Erased customers' earlier segment messages leave SEGMENTS (ADR 14); their exits below are announced after.
    if (erased.length > 0) await this.outbox.eraseFromStreams(tx, { partitionKeys: erased });
    if (gone.size > 0) {
      const goneIds = [...gone];
      changes.push(...(await this.memberships.exitAll(tx, goneIds, catalog)));
      // Merged-away profiles' facts were moved above; what is left belongs to erased profiles.
      await this.readModel.remove(tx, goneIds);
      for (const id of goneIds) touched.delete(id);
    }
    changes.push(...(await this.memberships.evaluateProfiles(tx, touched, catalog, new Set(upserts.map((u) => u.profile_id)))));
    return changes;
  }

  /**
   * Facts older than the retention period go, a thousand profiles per transaction, and those
   * profiles are re-evaluated with them gone (a count or `first` without a window can change):
   * so a recompute since the last one need only look at facts crossing a boundary (ADR 19).
   */
  @Cron('17 3 * * *', { name: 'behaviour-retention' })
  async applyRetention(): Promise<number> {
    const before = new Date(this.clock.now() - this.config.BEHAVIOUR_RETENTION_DAYS * DAY_MS);
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const profileIds = await this.readModel.profilesWithFactsBefore(before, RETENTION_PROFILES_PER_TRANSACTION, after);
      if (profileIds.length === 0) break;
      after = profileIds[profileIds.length - 1];
      const catalog = await this.memberships.catalogNow();
      const { deleted, changes } = await withTransaction(
        this.database.db,
        async (tx) => {
          await this.repository.lockProfiles(tx, profileIds);
          const facts = await this.readModel.deleteFactsBefore(tx, profileIds, before);
          const touched = new Map<string, ProfileTouch>();
          for (const { profileId, name } of facts) {
            if (!touched.has(profileId)) touched.set(profileId, emptyTouch());
            touched.get(profileId)?.events.add(name);
          }
          return { deleted: facts.length, changes: await this.memberships.evaluateProfiles(tx, touched, catalog) };
        },
        { attempts: 8 },
      );
      if (changes.length > 0) this.memberships.announced();
      removed += deleted;
    }
    if (removed > 0) this.logger.log(`removed ${removed} behaviour facts older than ${this.config.BEHAVIOUR_RETENTION_DAYS} days`);
    return removed;
  }
}
