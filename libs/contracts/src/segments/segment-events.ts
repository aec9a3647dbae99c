import { IsIn, IsInt, IsISO8601, IsString, IsUUID, Min } from 'class-validator';

export const SEGMENT_KINDS = ['rule', 'rfm', 'lifecycle', 'cluster', 'predictive'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

/**
 * `segments.entered` / `segments.exited`: one customer's membership changed. `seq` numbers every
 * change of every segment in order (the membership-change log), so a consumer that missed messages
 * catches up exactly with `GET /v1/segments/:id/changes?after=<seq>`.
 */
export class SegmentMembershipChangedV1 {
  @IsInt()
  @Min(1)
  seq!: number;

  @IsUUID()
  segmentId!: string;

  @IsString()
  segmentKey!: string;

  @IsInt()
  segmentVersion!: number;

  @IsUUID()
  profileId!: string;

  @IsIn(['entered', 'exited'])
  change!: 'entered' | 'exited';

  @IsISO8601()
  at!: string;
}

/** `segments.changed`: a segment was created, edited, paused or deleted. */
export class SegmentChangedV1 {
  @IsUUID()
  segmentId!: string;

  @IsString()
  key!: string;

  @IsString()
  name!: string;

  @IsIn(SEGMENT_KINDS)
  kind!: SegmentKind;

  @IsInt()
  version!: number;

  @IsIn(['active', 'paused', 'deleted'])
  status!: 'active' | 'paused' | 'deleted';

  @IsISO8601()
  at!: string;
}
