import { IsArray, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';
import type { SegmentNameV1 } from './segment-events';

/**
 * Request/reply (core NATS, @nestjs/microservices) of segmentation's memberships, for read models
 * that must rebuild to exactly segmentation's state when the SEGMENTS stream no longer holds the
 * old changes (ADR 14: streams keep a week). A rebuild asks the head first (S0), then every page.
 */
export const MEMBERSHIP_SNAPSHOT_PATTERNS = {
  /** The highest membership change `seq` now (MembershipHeadV1). */
  head: 'segmentation.memberships.head',
  /** One page of current memberships in (segmentId, profileId) order (MembershipPageV1). */
  page: 'segmentation.memberships.page',
} as const;

/** The most rows one page may hold: a page of 5,000 rows stays well below NATS's 1 MB message limit. */
export const MEMBERSHIP_PAGE_MAX = 5000;

/** The head of segmentation's membership change log. */
export class MembershipHeadV1 {
  /** 0 when no change was ever recorded. */
  @IsInt()
  @Min(0)
  seq!: number;

  /** When that change was recorded; null with seq 0. */
  @IsOptional()
  @IsISO8601()
  at!: string | null;

  /**
   * Every segment that exists now, with its name (absent from segmentation versions before it):
   * what a rebuilding read model needs to name segments whose segments.changed the stream no longer
   * holds. Validated one by one by the caller (SegmentNameV1).
   */
  @IsOptional()
  @IsArray()
  segments?: SegmentNameV1[];
}

/** Asks for the memberships after a keyset cursor (none: from the start). */
export class MembershipPageRequestV1 {
  @IsOptional()
  @IsUUID()
  afterSegmentId?: string;

  @IsOptional()
  @IsUUID()
  afterProfileId?: string;

  @IsInt()
  @Min(1)
  @Max(MEMBERSHIP_PAGE_MAX)
  limit!: number;
}

/** One current membership and the seq of the last change of that (segment, profile) pair (0: none logged). */
export class MembershipSnapshotRowV1 {
  @IsUUID()
  segmentId!: string;

  @IsString()
  segmentKey!: string;

  @IsUUID()
  profileId!: string;

  @IsInt()
  @Min(0)
  seq!: number;
}

/** A page of memberships; `next` is the cursor of the following page, null after the last. */
export class MembershipPageV1 {
  /** Validated one by one by the caller (MembershipSnapshotRowV1): contracts carry no class-transformer. */
  @IsArray()
  rows!: MembershipSnapshotRowV1[];

  @IsOptional()
  next!: { afterSegmentId: string; afterProfileId: string } | null;
}
