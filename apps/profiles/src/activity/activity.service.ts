import { Injectable, Logger } from '@nestjs/common';
import { SUBJECTS, messageKey, type ProfileActivityV1, type ProfileMergedV1, type ProfileUpdatedV1, type SegmentMessageV1 } from '@segmenta/contracts';
import { Inbox, Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { withTransaction } from '@segmenta/persistence';
import { ProfilesConfig } from '../config';
import { applyEvent, changedValues, deriveFeatures, emptyAccumulator, publicFeatures, type FeatureAccumulator, type FeatureEvent } from '../features/customer-features';
import { FeatureContext } from '../features/feature-context.service';
import { BlocklistService } from '../identity/blocklist.service';
import { extractIdentifiers, identifierKey, type Identifier } from '../identity/identifiers';
import { IdentityGraphBatch, type ProfileIdentityStats } from '../identity/identity-graph-batch';
import { DEFAULT_IDENTITY_RULES, parseKindLimits, type IdentityRules } from '../identity/identity-rules';
import { ProfileStoreRepository, propensityFeatures, storedPublicFeatures, type MergeHistoryRow, type NewEventRow, type Tx } from './profile-store.repository';

/** Thrown when another transaction took an identifier or event between our look-up and insert: the batch runs again. */
class ConcurrentWriteError extends Error {
  readonly code = '40001';
}

interface TraitState {
  traits: Record<string, unknown>;
  times: Record<string, string>;
  mergeCount: number;
  changed: Record<string, unknown>;
  /** Set after a merge: publish the whole profile. */
  full: boolean;
  dirty: boolean;
}

export interface BatchOutcome {
  stored: number;
  duplicates: number;
  merges: number;
  profilesUpdated: number;
}

/** Features every event changes: a change of these alone is not worth a profiles.updated. */
const ACTIVITY_ONLY_FEATURES = new Set(['last_seen', 'event_count']);
/** A full profiles.updated carries the profile's most recent anonymous ids, not every device it was ever seen on. */
const MAX_ANONYMOUS_IDS_SENT = 20;

/**
 * Applies a batch of Segment calls in one transaction: the inbox drops messageIds applied before,
 * then identity resolution (profiles created, identifiers attached, merges done or refused), the
 * event log, traits (last write wins by call time) and features, and the PROFILES messages they
 * cause go into the outbox in the same transaction (ADR 12). The EVENTS messages are acked after
 * the commit; the outbox relay publishes.
 */
@Injectable()
export class ActivityService {
  private readonly logger = new Logger(ActivityService.name);
  private readonly rules: IdentityRules;
  /** messageIds of EVENTS messages applied (the event log alone would forget erased ones). */
  private readonly inbox = new Inbox('profiles', 'profiles-events');

  constructor(
    private readonly store: ProfileStoreRepository,
    private readonly blocklist: BlocklistService,
    private readonly features: FeatureContext,
    private readonly outbox: Outbox,
    config: ProfilesConfig,
  ) {
    this.rules = {
      kindLimits: { ...DEFAULT_IDENTITY_RULES.kindLimits, ...parseKindLimits(config.IDENTITY_KIND_LIMITS) },
      maxIdentifiers: config.IDENTITY_MAX_IDENTIFIERS,
      maxMerges: config.IDENTITY_MAX_MERGES,
    };
  }

  async apply(messages: ReceivedCall[]): Promise<BatchOutcome> {
    // The first copy of a messageId within its source wins (ADR 15), in a batch as across batches (a Map built from the list would keep the last).
    const seen = new Set<string>();
    const unique = messages.filter((m) => !seen.has(messageKey(m)) && seen.add(messageKey(m)));
    const isBlocked = await this.blocklist.predicate();
    const cuts = await this.features.rfmCuts();
    const fitted = await this.features.fittedModels();
    const outcome = await withTransaction(this.store.database.db, (tx) => this.applyInTransaction(tx, unique, isBlocked, cuts, fitted), { attempts: 8 });
    this.outbox.wake();
    outcome.duplicates += messages.length - unique.length;
    return outcome;
  }

  private async applyInTransaction(
    tx: Tx,
    messages: ReceivedCall[],
    isBlocked: (i: Identifier) => boolean,
    cuts: Awaited<ReturnType<FeatureContext['rfmCuts']>>,
    fitted: Awaited<ReturnType<FeatureContext['fittedModels']>>,
  ) {
    // A concurrent batch claiming the same messageId waits for ours to commit, then finds it taken.
    const claimed = await this.inbox.claim(tx, messages.map(messageKey));
    const fresh = messages.filter((m) => claimed.has(messageKey(m)));
    const outcome: BatchOutcome = { stored: 0, duplicates: messages.length - fresh.length, merges: 0, profilesUpdated: 0 };
    if (fresh.length === 0) return outcome;

    // 1. Identity resolution, under locks on every identifier the batch mentions.
    const perEvent = fresh.map((message) => ({ message, identifiers: extractIdentifiers(message) }));
    const lookups = new Map<string, Identifier>();
    for (const { identifiers } of perEvent) for (const i of identifiers) if (!isBlocked(i)) lookups.set(identifierKey(i), i);
    await this.store.lockIdentifiers(tx, [...lookups.keys()]);
    const known = await this.store.findIdentities(
      tx,
      [...lookups.values()].map(({ kind, value }) => ({ kind, value })),
    );
    const profileRows = await this.lockLiveProfiles(tx, known);
    const counts = await this.store.identityCounts(tx, [...profileRows.keys()]);
    const stats = new Map<string, ProfileIdentityStats>();
    const traitStates = new Map<string, TraitState>();
    for (const [id, row] of profileRows) {
      const perKind = counts.get(id) ?? {};
      stats.set(id, { counts: perKind, total: Object.values(perKind).reduce((a, b) => a + b, 0), mergeCount: row.mergeCount });
      traitStates.set(id, { traits: { ...row.traits }, times: { ...row.traitTimes }, mergeCount: row.mergeCount, changed: {}, full: false, dirty: false });
    }
    const graph = new IdentityGraphBatch(this.rules, known, stats, isBlocked);
    const resolved = perEvent.map(({ message, identifiers }) => ({ message, profileId: graph.resolve(message.messageId, message.type, identifiers) }));

    // 2. The graph's changes: new profiles, merges (in order), history, new identifiers.
    await this.store.insertProfiles(tx, graph.newProfiles);
    for (const id of graph.newProfiles) traitStates.set(id, { traits: {}, times: {}, mergeCount: 0, changed: {}, full: true, dirty: true });
    const history: MergeHistoryRow[] = [];
    for (const merge of graph.merges) {
      await this.store.mergeProfile(tx, merge.from, merge.into);
      mergeTraits(traitStates.get(merge.into)!, traitStates.get(merge.from)!);
      traitStates.delete(merge.from);
      history.push({ from_profile_id: merge.from, into_profile_id: merge.into, status: 'merged', reason: merge.reason, identifier: merge.identifier, event_id: merge.eventId, detail: null });
    }
    for (const refused of graph.refused) {
      history.push({
        from_profile_id: graph.live(refused.from),
        into_profile_id: graph.live(refused.into),
        status: 'refused',
        reason: refused.reason,
        identifier: refused.identifier,
        event_id: refused.eventId,
        detail: refused.detail,
      });
    }
    await this.store.insertMergeHistory(tx, history);
    const identities = graph.newIdentities();
    if ((await this.store.insertIdentities(tx, identities)) !== identities.length) throw new ConcurrentWriteError('an identifier was attached by a concurrent transaction');

    // 3. The event log, each event on its live profile.
    const rows: NewEventRow[] = resolved.map(({ message, profileId }) => toEventRow(message, profileId === null ? null : graph.live(profileId)));
    if ((await this.store.insertEvents(tx, rows)) !== rows.length) throw new ConcurrentWriteError('an event was stored by a concurrent transaction');
    outcome.stored = rows.length;
    outcome.merges = graph.merges.length;

    // 4. Traits: identify calls set them, last write (by call time) wins.
    for (const row of rows) {
      if (row.profile_id && row.type === 'identify' && Object.keys(row.traits).length > 0) applyTraits(traitStates.get(row.profile_id)!, row.traits, row.occurred_at);
    }
    const dirtyTraits = [...traitStates.entries()].filter(([, s]) => s.dirty);
    await this.store.updateProfiles(
      tx,
      dirtyTraits.map(([id, s]) => ({ id, traits: s.traits, traitTimes: s.times, mergeCount: s.mergeCount })),
    );

    // 5. Features: incremental for most, from the whole log for profiles that absorbed a merge.
    const touched = new Set(rows.map((r) => r.profile_id).filter((id): id is string => id !== null));
    const rebuilt = new Set(graph.merges.map((m) => graph.live(m.into)));
    for (const id of rebuilt) touched.add(id);
    const stored = await this.store.loadFeatures(tx, [...touched]);
    const accumulators = new Map<string, FeatureAccumulator>();
    for (const id of touched) if (!rebuilt.has(id)) accumulators.set(id, stored.get(id)?.accumulator ?? emptyAccumulator());
    for (const row of rows) {
      if (row.profile_id && !rebuilt.has(row.profile_id)) {
        accumulators.set(row.profile_id, applyEvent(accumulators.get(row.profile_id)!, toFeatureEvent(row), this.features.money));
      }
    }
    for (const event of await this.store.loadFeatureEvents(tx, [...rebuilt])) {
      accumulators.set(event.profileId, applyEvent(accumulators.get(event.profileId) ?? emptyAccumulator(), event, this.features.money));
    }
    const now = this.features.now();
    const featureRows = [...accumulators.entries()].map(([profileId, acc]) => ({ profileId, features: deriveFeatures(acc, now, cuts, this.features.money, stored.get(profileId)?.model, fitted) }));
    await this.store.upsertFeatures(tx, featureRows);

    // 6. PROFILES messages, written with the change; the relay publishes them after the commit.
    const outgoing: OutgoingMessage[] = [];
    for (const merge of graph.merges) {
      const data: ProfileMergedV1 = { fromProfileId: merge.from, intoProfileId: merge.into, reason: merge.reason, identifier: merge.identifier, mergedAt: now.toISOString() };
      outgoing.push({
        subject: SUBJECTS.profilesMerged,
        envelope: createEnvelope(SUBJECTS.profilesMerged, data, { id: `merged:${merge.from}:${merge.into}`, occurredAt: now }),
        partitionKey: merge.into,
      });
    }
    for (const row of rows) {
      if (!row.profile_id) continue;
      const data: ProfileActivityV1 = {
        profileId: row.profile_id,
        eventId: row.id,
        type: row.type as ProfileActivityV1['type'],
        name: row.name,
        properties: row.properties,
        traits: row.traits,
        occurredAt: row.occurred_at,
      };
      outgoing.push({
        subject: SUBJECTS.profilesActivity,
        envelope: createEnvelope(SUBJECTS.profilesActivity, data, { id: `activity:${messageKey({ sourceId: row.source_id, messageId: row.id })}`, occurredAt: new Date(row.occurred_at) }),
        partitionKey: row.profile_id,
      });
    }
    // Identifiers people recognise the customer by, for profiles that are new, merged or gained one.
    // Anonymous ids too, so that `?anonymousId=` resolves downstream (offers): those attached now, and on a full update the most recent.
    const identifiersChanged = new Set(identities.filter((i) => i.kind === 'user_id' || i.kind === 'email' || i.kind === 'anonymous_id').map((i) => i.profileId));
    const attachedAnonymousIds = new Map<string, string[]>();
    for (const i of identities) if (i.kind === 'anonymous_id') attachedAnonymousIds.set(i.profileId, [...(attachedAnonymousIds.get(i.profileId) ?? []), i.value]);
    const fullUpdates = new Set(featureRows.filter(({ profileId }) => rebuilt.has(profileId) || traitStates.get(profileId)?.full).map((r) => r.profileId));
    for (const profileId of fullUpdates) identifiersChanged.add(profileId);
    const displayIdentifiers = await this.store.displayIdentifiers(tx, [...identifiersChanged]);
    // A profile new in this batch and merged with none holds only the anonymous ids attached now: no need to read them back.
    const newProfiles = new Set(graph.newProfiles);
    const recentAnonymousIds = await this.store.recentAnonymousIds(
      tx,
      [...fullUpdates].filter((profileId) => rebuilt.has(profileId) || !newProfiles.has(profileId)),
      MAX_ANONYMOUS_IDS_SENT,
    );
    for (const { profileId, features } of featureRows) {
      const traitState = traitStates.get(profileId);
      const full = rebuilt.has(profileId) || (traitState?.full ?? false);
      const anonymousIds = [...new Set([...(attachedAnonymousIds.get(profileId) ?? []), ...(recentAnonymousIds.get(profileId) ?? [])])];
      const identifiers = identifiersChanged.has(profileId) ? { ...displayIdentifiers.get(profileId), ...(anonymousIds.length > 0 ? { anonymousIds } : {}) } : undefined;
      const after = publicFeatures(features);
      // A full update replaces the subscriber's copy: keep the propensity scores in it.
      const changedFeatures = full
        ? { ...after, ...(stored.has(profileId) ? propensityFeatures(stored.get(profileId)!.row) : {}) }
        : changedValues(stored.has(profileId) ? storedPublicFeatures(stored.get(profileId)!.row) : null, after);
      const changedTraits = full ? (traitState?.traits ?? {}) : (traitState?.changed ?? {});
      // last_seen and event_count move with every event, which profiles.activity already announces.
      if (!full && !identifiers && Object.keys(changedTraits).length === 0 && Object.keys(changedFeatures).every((key) => ACTIVITY_ONLY_FEATURES.has(key))) continue;
      const data: ProfileUpdatedV1 = { profileId, traits: changedTraits, features: changedFeatures, full, updatedAt: now.toISOString(), ...(identifiers ? { identifiers } : {}) };
      outgoing.push({ subject: SUBJECTS.profilesUpdated, envelope: createEnvelope(SUBJECTS.profilesUpdated, data, { occurredAt: now }), partitionKey: profileId });
      outcome.profilesUpdated += 1;
    }
    await this.outbox.write(tx, outgoing);
    return outcome;
  }

  /**
   * Locks the profiles the identifiers point at. One may have been merged by a transaction that
   * committed after our look-up (it re-points all of a profile's identifiers, not only the ones
   * it locked): follow it to the live profile and lock that one too.
   */
  private async lockLiveProfiles(tx: Tx, known: Map<string, string>) {
    const live = new Map<string, Awaited<ReturnType<ProfileStoreRepository['lockProfiles']>>[number]>();
    const redirect = new Map<string, string | null>();
    let pending = [...new Set(known.values())];
    while (pending.length > 0) {
      const rows = await this.store.lockProfiles(tx, pending);
      const next: string[] = [];
      for (const row of rows) {
        if (row.erasedAt) redirect.set(row.id, null);
        else if (row.mergedInto) {
          redirect.set(row.id, row.mergedInto);
          if (!live.has(row.mergedInto) && !redirect.has(row.mergedInto)) next.push(row.mergedInto);
        } else live.set(row.id, row);
      }
      pending = [...new Set(next)];
    }
    for (const [key, id] of [...known.entries()]) {
      let target: string | null | undefined = id;
      for (let hops = 0; target && redirect.has(target) && hops < 100; hops += 1) target = redirect.get(target);
      if (target && live.has(target)) known.set(key, target);
      else known.delete(key);
    }
    if (redirect.size > 0) this.logger.debug(`followed ${redirect.size} profiles merged or erased concurrently`);
    return live;
  }
}

/** A Segment call as received from EVENTS, with its stream sequence (unknown for a replayed dead letter). */
export type ReceivedCall = SegmentMessageV1 & { streamSeq?: number };

function toEventRow(message: ReceivedCall, profileId: string | null): NewEventRow {
  return {
    id: message.messageId,
    stream_seq: message.streamSeq ?? null,
    profile_id: profileId,
    type: message.type,
    name: message.event ?? message.name ?? null,
    user_id: message.userId ?? null,
    anonymous_id: message.anonymousId ?? null,
    source_id: message.sourceId,
    properties: message.properties ?? {},
    traits: message.traits ?? {},
    context: message.context ?? {},
    occurred_at: new Date(message.timestamp).toISOString(),
    received_at: new Date(message.receivedAt).toISOString(),
  };
}

function toFeatureEvent(row: NewEventRow): FeatureEvent {
  return { id: row.id, type: row.type, name: row.name, properties: row.properties, occurredAt: new Date(row.occurred_at) };
}

function applyTraits(state: TraitState, traits: Record<string, unknown>, at: string): void {
  for (const [key, value] of Object.entries(traits)) {
    const previous = state.times[key];
    if (previous !== undefined && previous > at) continue;
    if (previous === undefined || JSON.stringify(state.traits[key]) !== JSON.stringify(value)) state.changed[key] = value;
    state.traits[key] = value;
    state.times[key] = at;
    state.dirty = true;
  }
}

function mergeTraits(into: TraitState, from: TraitState): void {
  for (const [key, value] of Object.entries(from.traits)) {
    const theirs = from.times[key] ?? '';
    const ours = into.times[key];
    if (ours !== undefined && ours >= theirs) continue;
    into.traits[key] = value;
    into.times[key] = theirs;
  }
  into.mergeCount += from.mergeCount + 1;
  into.full = true;
  into.dirty = true;
}
