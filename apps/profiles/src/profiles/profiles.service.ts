import { Injectable } from '@nestjs/common';
import { GoneError, NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import { SUBJECTS, type ProfileErasedV1 } from '@segmenta/contracts';
import { JetStreamClient, Outbox, createEnvelope } from '@segmenta/messaging';
import { withTransaction } from '@segmenta/persistence';
import { ProfileStoreRepository, storedPublicFeatures } from '../activity/profile-store.repository';
import { EventResponseDto } from '../events/events.dto';
import { EventsService } from '../events/events.service';
import { normaliseEmail, normalisePhone } from '../identity/identifiers';
import type { ErasureResponseDto, EventsPageDto, MergeRecordDto, ProfileLookupQueryDto, ProfileResponseDto } from './profiles.dto';
import { ProfilesRepository, type ProfileRecord } from './profiles.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function notFound(field: string, message: string): NotFoundError {
  return new NotFoundError(message, [{ field, problem: 'not found' }]);
}

function badRequest(field: string, problem: string): ValidationFailedError {
  return new ValidationFailedError(`${field} ${problem}`, [{ field, problem }]);
}

@Injectable()
export class ProfilesService {
  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly eventLog: EventsService,
    private readonly store: ProfileStoreRepository,
    private readonly outbox: Outbox,
    private readonly messaging: JetStreamClient,
  ) {}

  /** The live profile behind an id: merged ids lead to the profile they were merged into. */
  async live(id: string): Promise<ProfileRecord> {
    if (!UUID.test(id)) throw badRequest('id', 'must be a profile id (UUID)');
    let profile = await this.profiles.findProfile(id);
    for (let hops = 0; profile?.mergedInto && hops < 100; hops += 1) profile = await this.profiles.findProfile(profile.mergedInto);
    if (!profile) throw notFound('id', `No profile with id "${id}"`);
    if (profile.erasedAt) throw new GoneError(`Profile "${id}" was erased on ${profile.erasedAt.toISOString()}`, [{ field: 'id', problem: 'erased' }]);
    return profile;
  }

  async get(id: string): Promise<ProfileResponseDto> {
    const profile = await this.live(id);
    const [identities, features, mergedProfileIds] = await Promise.all([this.profiles.identitiesOf(profile.id), this.profiles.featuresOf(profile.id), this.profiles.mergedInto(profile.id)]);
    return {
      id: profile.id,
      traits: profile.traits,
      identities: identities.map((i) => ({ kind: i.kind, value: i.value })),
      features: features ? storedPublicFeatures(toSnakeRow(features)) : {},
      mergedProfileIds,
      createdAt: profile.createdAt.toISOString(),
      updatedAt: profile.updatedAt.toISOString(),
    };
  }

  /** Exactly one of userId, email, anonymousId, phone. */
  async lookup(query: ProfileLookupQueryDto): Promise<ProfileResponseDto> {
    const given = (['userId', 'email', 'anonymousId', 'phone'] as const).filter((key) => query[key] !== undefined);
    if (given.length !== 1) {
      throw new ValidationFailedError(
        'Give exactly one of userId, email, anonymousId, phone',
        given.length === 0 ? [{ field: 'query', problem: 'one of userId, email, anonymousId, phone is required' }] : given.map((field) => ({ field, problem: 'only one identifier per look-up' })),
      );
    }
    const field = given[0];
    const raw = query[field]!;
    const kind = { userId: 'user_id', email: 'email', anonymousId: 'anonymous_id', phone: 'phone' }[field];
    const value = field === 'email' ? normaliseEmail(raw) : field === 'phone' ? normalisePhone(raw) : raw;
    if (!value) throw badRequest(field, field === 'email' ? 'must be an email address' : 'must be a phone number');
    const profileId = await this.profiles.findByIdentity(kind, value);
    if (!profileId) throw notFound(field, `No profile with ${field} "${raw}"`);
    return this.get(profileId);
  }

  async events(id: string, limit = 50, cursor?: string): Promise<EventsPageDto> {
    const profile = await this.live(id);
    const after = cursor ? decodeCursor(cursor) : undefined;
    const rows = await this.eventLog.listForProfile(profile.id, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((e) => EventResponseDto.from(e)),
      nextCursor: rows.length > limit && last ? Buffer.from(JSON.stringify([last.occurredAt.toISOString(), last.id])).toString('base64url') : null,
    };
  }

  async merges(id: string): Promise<MergeRecordDto[]> {
    const profile = await this.live(id);
    const ids = [profile.id, ...(await this.profiles.mergedInto(profile.id))];
    return (await this.profiles.mergeHistory(ids)).map((m) => ({ ...m, at: m.at.toISOString() }));
  }

  /**
   * Erasure: removes the profile's events, identifiers, traits, features and merge history (its
   * own and those of every profile merged into it), and its messages from the streams; keeps a
   * tombstone so that look-ups answer 410, and publishes `profiles.erased` for every read model to
   * drop what it holds.
   */
  async erase(id: string): Promise<ErasureResponseDto> {
    const profile = await this.live(id);
    const erasedAt = new Date();
    const result = await withTransaction(this.profiles.database.db, async (tx) => {
      const [locked] = await this.store.lockProfiles(tx, [profile.id]);
      if (!locked || locked.erasedAt || locked.mergedInto) throw notFound('id', `Profile "${id}" changed while being erased; retry`);
      const { merged, eventsDeleted, identitiesDeleted, eventStreamSeqs, identifierValues } = await this.profiles.erase(tx, profile.id, erasedAt);
      // The person's messages go from the streams too (ADR 14): the events this service stored, what
      // its relay published about them, and dead letters that mention them.
      const deadLetters = await this.messaging.findInStream('DLQ', [...identifierValues, profile.id, ...merged]);
      const events = this.messaging.streamName('EVENTS');
      await this.outbox.eraseFromStreams(tx, { partitionKeys: [profile.id, ...merged], locations: [...eventStreamSeqs.map((seq) => ({ stream: events, seq })), ...deadLetters] });
      const data: ProfileErasedV1 = { profileId: profile.id, mergedProfileIds: merged, erasedAt: erasedAt.toISOString() };
      await this.outbox.write(tx, [
        { subject: SUBJECTS.profilesErased, envelope: createEnvelope(SUBJECTS.profilesErased, data, { id: `erased:${profile.id}`, occurredAt: erasedAt }), partitionKey: profile.id },
      ]);
      return { profileId: profile.id, mergedProfileIds: merged, eventsDeleted, identitiesDeleted, erasedAt: erasedAt.toISOString() };
    });
    this.outbox.wake();
    return result;
  }
}

function decodeCursor(cursor: string): { occurredAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const occurredAt = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(occurredAt.getTime())) throw new Error('bad cursor');
    return { occurredAt, id };
  } catch {
    throw badRequest('cursor', 'is not a cursor returned by this endpoint');
  }
}

/** Drizzle's camelCase feature record in the column names storedPublicFeatures reads. */
function toSnakeRow(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key.replace(/[A-Z0-9]+/g, (m) => `_${m.toLowerCase()}`), value]));
}
