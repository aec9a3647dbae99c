import { ArrayMaxSize, IsArray, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Length, Min } from 'class-validator';
import type { ExperimentKind, ExperimentMetricLiftV1 } from '../experiments/experiment-events';

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

/** A segment as read models name it: its key and the name people gave it (segmentation's memberships head lists them). */
export class SegmentNameV1 {
  @IsUUID()
  segmentId!: string;

  @IsString()
  key!: string;

  @IsString()
  name!: string;
}

/** `segments.changed`: a segment was created, edited, paused or deleted. */
export class SegmentChangedV1 extends SegmentNameV1 {
  @IsIn(SEGMENT_KINDS)
  kind!: SegmentKind;

  @IsInt()
  version!: number;

  @IsIn(['active', 'paused', 'deleted'])
  status!: 'active' | 'paused' | 'deleted';

  @IsISO8601()
  at!: string;
}

export const SEGMENT_REFERENCE_OWNERS = ['offers', 'experiments'] as const;
export type SegmentReferenceOwner = (typeof SEGMENT_REFERENCE_OWNERS)[number];

/**
 * `offers.segment-references` / `experiments.segment-references`: the full set of segment keys one
 * offer, journey or experiment targets, sent whenever it is saved or deleted (an empty list when it
 * no longer targets any). Segmentation keeps them in a reference table and refuses to delete a
 * segment still referenced. `revision` grows with every save, so a late message never undoes a newer one.
 */
export class SegmentReferencesV1 {
  @IsIn(SEGMENT_REFERENCE_OWNERS)
  service!: SegmentReferenceOwner;

  @IsString()
  @Length(1, 64)
  ownerKind!: string;

  @IsString()
  @Length(1, 200)
  ownerId!: string;

  @IsString()
  @Length(1, 200)
  ownerName!: string;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  segmentKeys!: string[];

  @IsInt()
  @Min(0)
  revision!: number;
}

/**
 * A segment's KPIs at one snapshot. Money is in minor units of profiles' base currency; rates
 * and shares are 0–1; `growth` and `stability` are null on a segment's first snapshot.
 */
export class SegmentKpiMetrics {
  size!: number;
  customerShare!: number;
  revenueShare!: number;
  growth!: number | null;
  /** Members with an order in the last 30 days. */
  conversionRate!: number | null;
  aov!: number | null;
  /** Buyers with two orders or more, of the members who bought. */
  repeatPurchaseRate!: number | null;
  meanClv!: number | null;
  /** Members in the lapsed lifecycle stage. */
  churnRate!: number | null;
  /** Members with any tracked behaviour in the last 30 days. */
  engagementRate!: number | null;
  /** Jaccard index of the members now and at the previous snapshot. */
  stability!: number | null;
}

/** `segments.kpis`: one segment's KPI snapshot. */
export class SegmentKpisV1 {
  @IsUUID()
  segmentId!: string;

  @IsString()
  segmentKey!: string;

  @IsISO8601()
  at!: string;

  @IsObject()
  metrics!: SegmentKpiMetrics;

  /** The segment's lift in each running experiment that breaks down by it (issue 22), from the newest experiments.results; absent from older messages. */
  @IsOptional()
  @IsArray()
  @IsObject({ each: true })
  experiments?: SegmentExperimentLiftV1[];
}

/** A segment's lift in one running experiment, per metric: the control's mean, each variant's mean and lift against it. */
export interface SegmentExperimentLiftV1 {
  experimentId: string;
  key: string;
  kind: ExperimentKind;
  /** When experiments computed these results. */
  at: string;
  metrics: ExperimentMetricLiftV1[];
}
