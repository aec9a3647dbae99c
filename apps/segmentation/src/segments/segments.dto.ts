import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsObject, IsOptional, Matches, Max, Min } from 'class-validator';
import { CursorPageQuery } from '@segmenta/chassis';
import { InOrder, OptionalNotNull, RequiredString, SEGMENT_KINDS, StringOf, VALIDATION_MESSAGES, type SegmentKind } from '@segmenta/contracts';

const DEFINITION_EXAMPLE = {
  event: 'Product Viewed',
  where: [{ property: 'category', op: 'eq', value: 'cameras' }],
  count: { op: 'gte', value: 3 },
  within: 'P7D',
};

export class CreateSegmentDto {
  @ApiProperty({ example: 'camera-intent', description: 'Unique, lower-case letters, digits, - and _; what inSegment and other services refer to.' })
  @InOrder(RequiredString(100), Matches(/^[a-z0-9][a-z0-9_-]*$/, { message: 'key must be lower-case letters, digits, - and _, starting with a letter or digit' }))
  key!: string;

  @ApiProperty({ example: 'Camera intent' })
  @RequiredString(200)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @StringOf(2000, { allowEmpty: true })
  description?: string;

  @ApiPropertyOptional({ enum: SEGMENT_KINDS, default: 'rule' })
  @IsOptional()
  @IsIn(['rule', 'predictive'], { message: 'kind must be rule or predictive (rfm and lifecycle segments are built in; clusters are discovered)' })
  kind?: SegmentKind;

  @ApiProperty({ type: 'object', additionalProperties: true, example: DEFINITION_EXAMPLE, description: 'The rule (ARCHITECTURE §6): all/any/not over trait, feature, event and inSegment conditions.' })
  @InOrder(IsDefined({ message: VALIDATION_MESSAGES.required }), IsObject({ message: '$property must be an object' }))
  definition!: Record<string, unknown>;
}

export class UpdateSegmentDto {
  @ApiPropertyOptional()
  @OptionalNotNull()
  @StringOf(200)
  name?: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'null clears it.' })
  @IsOptional()
  @StringOf(2000, { allowEmpty: true })
  description?: string | null;

  @ApiPropertyOptional({ enum: ['active', 'paused'] })
  @OptionalNotNull()
  @IsIn(['active', 'paused'])
  status?: 'active' | 'paused';

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A new definition: the version goes up and the differences are emitted.' })
  @OptionalNotNull()
  @IsObject()
  definition?: Record<string, unknown>;
}

export class PreviewSegmentDto {
  @ApiProperty({ type: 'object', additionalProperties: true, example: DEFINITION_EXAMPLE })
  @IsObject()
  definition!: Record<string, unknown>;

  @ApiPropertyOptional({ default: 10, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100)
  sample?: number;
}

export class PageQueryDto extends CursorPageQuery({ defaultLimit: 100, maxLimit: 1000 }) {}

export class RecomputeQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description: 'true: evaluate every profile; false: only the profiles whose facts crossed a window or age boundary since the last recompute (ADR 19)',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'full must be true or false' })
  full?: 'true' | 'false';
}

export class ChangesQueryDto {
  @ApiPropertyOptional({ default: 0, description: 'Changes with a sequence number above this one' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after?: number;

  @ApiPropertyOptional({ default: 1000, maximum: 10000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  limit?: number;
}

export interface SegmentResponse {
  id: string;
  key: string;
  name: string;
  description: string | null;
  kind: SegmentKind;
  status: 'active' | 'paused';
  version: number;
  definition: unknown;
  /** A discovered cluster's persona card. */
  persona?: unknown;
  size: number;
  freshness: {
    /** Last full evaluation over every profile. */
    evaluatedAt: string | null;
    secondsSinceEvaluation: number | null;
    /** real-time: every update re-evaluates it; scheduled: time alone changes it, so the schedule bounds its staleness; discovery: a discovered cluster, reassigned by each discovery run. */
    target: 'real-time' | 'scheduled' | 'discovery';
    schedule: string;
  };
  createdAt: string;
  updatedAt: string;
  /** Offers, journeys and experiments that target it (single-segment reads only). */
  usedBy?: Array<{ service: string; ownerKind: string; ownerId: string; ownerName: string }>;
}

export class KpiHistoryQueryDto {
  @ApiPropertyOptional({ default: 30, maximum: 1000, description: 'Snapshots to return, newest first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1' })
  @Max(1000, { message: 'must be at most 1000' })
  limit?: number;
}

export class DiscoverSegmentsDto {
  @ApiPropertyOptional({ default: 8, minimum: 2, description: 'Fewest segments to consider' })
  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  @Min(2, { message: 'must be at least 2' })
  @Max(100, { message: 'must be at most 100' })
  kMin?: number;

  @ApiPropertyOptional({ default: 30, maximum: 100, description: 'Most segments to consider (also at most one per 20 customers)' })
  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  @Min(2, { message: 'must be at least 2' })
  @Max(100, { message: 'must be at most 100' })
  kMax?: number;

  @ApiPropertyOptional({ default: 1, description: 'Seed: the same data and seed give the same segments' })
  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  seed?: number;
}
