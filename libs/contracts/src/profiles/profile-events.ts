import { IsArray, IsBoolean, IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, IsUUID } from 'class-validator';
import { SEGMENT_EVENT_TYPES, type SegmentEventType } from '../platform/streams';

/**
 * Identifier kinds of the identity graph, highest merge priority first: when two identifiers of
 * one event point at different profiles that may not merge, the one listed first wins.
 * `custom:<type>` identifiers come from Segment's `context.externalIds`.
 */
export const IDENTITY_KINDS = ['user_id', 'email', 'phone', 'custom', 'anonymous_id'] as const;
export type IdentityKindFamily = (typeof IDENTITY_KINDS)[number];

/** `profiles.activity` (ARCHITECTURE §3): a stored event with the profile it resolved to. */
export class ProfileActivityV1 {
  @IsUUID()
  profileId!: string;

  /** The Segment messageId: unique, the consumer's idempotency key. */
  @IsString()
  @IsNotEmpty()
  eventId!: string;

  @IsIn(SEGMENT_EVENT_TYPES)
  type!: SegmentEventType;

  /** track: the event name; page/screen: the page name. */
  @IsOptional()
  @IsString()
  name?: string | null;

  @IsObject()
  properties!: Record<string, unknown>;

  @IsObject()
  traits!: Record<string, unknown>;

  @IsISO8601()
  occurredAt!: string;
}

/**
 * `profiles.updated`: what changed on a profile. `traits` and `features` hold only the changed
 * keys (null = removed) unless `full` is true (a new profile, a merge, a republish), in which case
 * they are complete. A change of `last_seen`/`event_count` alone is not published: every
 * `profiles.activity` implies it.
 */
export class ProfileUpdatedV1 {
  @IsUUID()
  profileId!: string;

  @IsObject()
  traits!: Record<string, unknown>;

  @IsObject()
  features!: Record<string, unknown>;

  @IsBoolean()
  full!: boolean;

  @IsISO8601()
  updatedAt!: string;

  /**
   * How people recognise the customer (a user id, an e-mail), for member lists and previews; sent
   * on a full update and when one was added, absent otherwise (the subscriber keeps its copy).
   */
  @IsOptional()
  @IsObject()
  identifiers?: CustomerIdentifiersV1;
}

/** The identifiers a marketer recognises a customer by; the first of each kind the profile holds. */
export interface CustomerIdentifiersV1 {
  userId?: string;
  email?: string;
  /**
   * Anonymous ids (devices, browsers) of the profile, for read models that resolve `?anonymousId=`:
   * those this update attached, and on a full update the profile's most recent ones (at most 20).
   */
  anonymousIds?: string[];
}

/** `profiles.merged`: `fromProfileId` no longer exists on its own; its data now belongs to `intoProfileId`. */
export class ProfileMergedV1 {
  @IsUUID()
  fromProfileId!: string;

  @IsUUID()
  intoProfileId!: string;

  /** The call that linked them: identify or alias. */
  @IsString()
  reason!: string;

  /** The identifier both profiles were found through, e.g. `email:ann@example.com`. */
  @IsString()
  identifier!: string;

  @IsISO8601()
  mergedAt!: string;
}

/** `profiles.erased`: the profile and every profile merged into it were erased; drop everything about them. */
export class ProfileErasedV1 {
  @IsUUID()
  profileId!: string;

  /** Profiles merged into it earlier (their ids may still be held by read models). */
  @IsArray()
  @IsUUID('all', { each: true })
  mergedProfileIds!: string[];

  @IsISO8601()
  erasedAt!: string;
}
