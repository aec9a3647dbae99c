import { Inject, Injectable, Logger } from '@nestjs/common';
import { SUBJECTS, type ProfileErasedV1, type ProfileMergedV1, type ProfileUpdatedV1, type SegmentChangedV1, type SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { Inbox, Outbox } from '@segmenta/messaging';
import { DATABASE, withTransaction, type Database } from '@segmenta/persistence';
import type * as tables from '../db/schema';
import { latestPerPair, progressOf, type MembershipChange } from './membership-changes';
import { applyFeatures, identifierRows, type IdentifierKind, type ProfileFacts } from './profile-facts';
import { ReadModelRepository, type Tx } from './read-model.repository';

/** A SEGMENTS message offers applies: its envelope id (inbox), type and data. */
export type SegmentsMessage = { id: string } & (
  { type: typeof SUBJECTS.segmentsEntered | typeof SUBJECTS.segmentsExited; data: SegmentMembershipChangedV1 } | { type: typeof SUBJECTS.segmentsChanged; data: SegmentChangedV1 }
);

/** A PROFILES message offers applies. */
export type ProfilesMessage = { id: string } & (
  { type: typeof SUBJECTS.profilesUpdated; data: ProfileUpdatedV1 } | { type: typeof SUBJECTS.profilesMerged; data: ProfileMergedV1 } | { type: typeof SUBJECTS.profilesErased; data: ProfileErasedV1 }
);

export const SEGMENTS_DURABLE = 'offers-segments';
export const PROFILES_DURABLE = 'offers-profiles';

/**
 * Keeps offers' read model from SEGMENTS (memberships) and PROFILES (facts, identifiers, merges,
 * erasures), each batch in one transaction with its inbox claim, so that the consumer acks only
 * what committed and a redelivery changes nothing.
 */
@Injectable()
export class ReadModelService {
  private readonly logger = new Logger(ReadModelService.name);
  private readonly segmentsInbox = new Inbox('offers', SEGMENTS_DURABLE);
  private readonly profilesInbox = new Inbox('offers', PROFILES_DURABLE);

  constructor(
    @Inject(DATABASE) private readonly database: Database<typeof tables>,
    private readonly repository: ReadModelRepository,
    private readonly outbox: Outbox,
  ) {}

  async applySegments(delivered: SegmentsMessage[]): Promise<void> {
    await withTransaction(
      this.database.db,
      async (tx) => {
        const fresh = await this.segmentsInbox.claim(
          tx,
          delivered.map((m) => m.id),
        );
        const messages = delivered.filter((m) => fresh.has(m.id));
        if (messages.length === 0) return;
        await this.repository.holdMembershipWrites(tx);
        // Changes between two segments.changed are applied together; a deletion applies at its place in the stream.
        let pending: MembershipChange[] = [];
        const all: MembershipChange[] = [];
        const flush = async () => {
          await this.repository.applyChanges(tx, latestPerPair(pending));
          pending = [];
        };
        for (const m of messages) {
          if (m.type === SUBJECTS.segmentsChanged) {
            await flush();
            if (m.data.status === 'deleted') await this.repository.removeSegment(tx, m.data.segmentId);
            else {
              await this.repository.renameSegment(tx, m.data.segmentId, m.data.key);
              await this.repository.writeSegmentNames(tx, [{ segmentId: m.data.segmentId, key: m.data.key, name: m.data.name }]);
            }
            continue;
          }
          const change: MembershipChange = {
            segmentId: m.data.segmentId,
            segmentKey: m.data.segmentKey,
            profileId: m.data.profileId,
            member: m.data.change === 'entered',
            seq: m.data.seq,
            at: m.data.at,
          };
          pending.push(change);
          all.push(change);
        }
        await flush();
        const progress = progressOf(all);
        if (progress) await this.repository.recordProgress(tx, progress.seq, progress.at);
      },
      { attempts: 8 },
    );
  }

  async applyProfiles(delivered: ProfilesMessage[]): Promise<void> {
    await withTransaction(this.database.db, (tx) => this.applyProfilesInTransaction(tx, delivered), { attempts: 8 });
  }

  private async applyProfilesInTransaction(tx: Tx, delivered: ProfilesMessage[]): Promise<void> {
    const fresh = await this.profilesInbox.claim(
      tx,
      delivered.map((m) => m.id),
    );
    const messages = delivered.filter((m) => fresh.has(m.id));
    if (messages.length === 0) return;
    if (messages.some((m) => m.type !== SUBJECTS.profilesUpdated)) await this.repository.holdProfilesGone(tx);
    const updatedIds = [...new Set(messages.flatMap((m) => (m.type === SUBJECTS.profilesUpdated ? [m.data.profileId] : [])))];
    const gone = await this.repository.goneOf(tx, updatedIds);
    const known = await this.repository.facts(tx, updatedIds);
    let facts = new Map<string, ProfileFacts>();
    let identifiers: Array<{ kind: IdentifierKind; value: string; profileId: string }> = [];
    const flush = async () => {
      await this.repository.writeFacts(
        tx,
        [...facts].map(([profileId, f]) => ({ profileId, facts: f })),
      );
      await this.repository.writeIdentifiers(tx, identifiers);
      facts = new Map();
      identifiers = [];
    };
    for (const m of messages) {
      switch (m.type) {
        case SUBJECTS.profilesUpdated: {
          const { profileId } = m.data;
          if (gone.has(profileId)) break;
          const next = applyFeatures(known.get(profileId), m.data.features, m.data.full);
          known.set(profileId, next);
          facts.set(profileId, next);
          identifiers.push(...identifierRows(m.data.identifiers).map((r) => ({ ...r, profileId })));
          break;
        }
        case SUBJECTS.profilesMerged: {
          const { fromProfileId: from, intoProfileId: into } = m.data;
          await flush();
          await this.repository.merge(tx, from, into);
          gone.add(from);
          known.delete(from);
          const survivor = (await this.repository.facts(tx, [into])).get(into);
          if (survivor) known.set(into, survivor);
          break;
        }
        case SUBJECTS.profilesErased: {
          const ids = [m.data.profileId, ...m.data.mergedProfileIds];
          await flush();
          await this.repository.erase(tx, ids);
          // What offers published about them (exposures, redemptions, points) leaves the OFFERS stream too.
          await this.outbox.eraseFromStreams(tx, { partitionKeys: ids });
          for (const id of ids) {
            gone.add(id);
            known.delete(id);
          }
          break;
        }
      }
    }
    await flush();
    this.logger.debug(`applied ${messages.length} PROFILES messages`);
  }
}
