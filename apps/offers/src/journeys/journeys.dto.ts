import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { CursorPageQuery } from '@segmenta/chassis';
import { OFFER_KEY } from '../catalog/offers.dto';

export const JOURNEY_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;

export const JOURNEY_DEFINITION_EXAMPLE = {
  trigger: { type: 'segment_entered', segment: 'camera-fans-this-week' },
  steps: [
    { id: 'email', type: 'send', channel: 'email', message: { template: 'camera-10' }, offer: 'cameras-10', next: 'wait-3d' },
    { id: 'wait-3d', type: 'wait', duration: 'P3D', next: 'redeemed' },
    { id: 'redeemed', type: 'branch', condition: { type: 'redeemed_offer', offer: 'cameras-10' }, then: null, else: 'reminder' },
    { id: 'reminder', type: 'send', channel: 'app_push', message: { template: 'camera-reminder' }, next: null },
  ],
  exit: { leftSegment: true, convertedOn: 'Order Completed' },
  reentry: { policy: 'after', days: 30 },
  quietHours: { start: '21:00', end: '08:00' },
};

export const JOURNEY_EXAMPLE = {
  key: 'camera-fans-10',
  name: 'Camera fans: 10 % off, once',
  status: 'active',
  version: 2,
  definition: JOURNEY_DEFINITION_EXAMPLE,
  createdAt: '2026-12-03T10:00:00.000Z',
  updatedAt: '2026-12-03T11:00:00.000Z',
};

const DEFINITION_DOC =
  'trigger (segment_entered / segment_exited {segment}, event {event, where}, loyalty {event: tier_changed | points_expiring, tier}); steps, entered at the first: send {channel, message, offer, next}, wait {duration (ISO 8601) or untilTimeOfDay (HH:MM, customer time zone), next}, branch {condition: redeemed_offer | in_segment | did_event, then, else}, split {branches: [{weight, next}]}, no loops; exit {leftSegment, convertedOn}; reentry {policy: never | after, days}; quietHours {start, end}';

export class CreateJourneyDto {
  @ApiProperty({ example: 'camera-fans-10' })
  @Length(1, 100)
  @Matches(OFFER_KEY, { message: 'must be lower-case letters, digits and hyphens, starting with a letter or digit' })
  key!: string;

  @ApiProperty({ example: 'Camera fans: 10 % off, once' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ description: DEFINITION_DOC, example: JOURNEY_DEFINITION_EXAMPLE })
  @IsObject({ message: 'must be an object: trigger, steps, exit, reentry, quietHours' })
  definition!: Record<string, unknown>;
}

export class UpdateJourneyDto {
  @ApiPropertyOptional({ example: 'Camera fans: 10 % off, once' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ description: `A new version: ${DEFINITION_DOC}`, example: JOURNEY_DEFINITION_EXAMPLE })
  @IsOptional()
  @IsObject({ message: 'must be an object: trigger, steps, exit, reentry, quietHours' })
  definition?: Record<string, unknown>;
}

export class JourneyStatusDto {
  @ApiProperty({ enum: JOURNEY_STATUSES })
  @IsIn(JOURNEY_STATUSES)
  status!: (typeof JOURNEY_STATUSES)[number];
}

export class ListJourneysQueryDto extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {
  @ApiPropertyOptional({ enum: JOURNEY_STATUSES })
  @IsOptional()
  @IsIn(JOURNEY_STATUSES)
  status?: (typeof JOURNEY_STATUSES)[number];
}

export const CHANNEL_KINDS = ['webhook', 'nats'] as const;

export const CHANNEL_EXAMPLE = {
  key: 'email',
  type: 'webhook',
  url: 'https://crm.example.com/hooks/segmenta',
  subject: null,
  secretHints: ['whsec_MfKQ…'],
  capPerDay: 1,
  capPerWeek: 3,
  retryForSeconds: 86400,
  timeoutMs: 10000,
  updatedAt: '2026-12-03T10:00:00.000Z',
};

/** A channel journeys send on: a webhook (signed the Standard Webhooks way) or a NATS subject. PUT replaces it; absent secrets are kept (or, on creation, one is generated and shown once). */
export class PutChannelDto {
  @ApiProperty({ enum: CHANNEL_KINDS, example: 'webhook' })
  @IsIn(CHANNEL_KINDS)
  type!: (typeof CHANNEL_KINDS)[number];

  @ApiPropertyOptional({ description: 'webhook: the http(s) URL each send is POSTed to', example: 'https://crm.example.com/hooks/segmenta' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  url?: string;

  @ApiPropertyOptional({ description: 'nats: the subject each send is published on, under journeys. (the OFFERS stream keeps it), without the deployment prefix', example: 'journeys.sends.push' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  subject?: string;

  @ApiPropertyOptional({
    description: 'webhook: whsec_ signing secrets; every one signs each delivery, so a receiver verifies with any (rotate by giving old and new, then the new alone)',
    example: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @IsString({ each: true })
  secrets?: string[];

  @ApiPropertyOptional({ description: 'At most this many messages per customer on this channel in 24 hours, over all journeys (null: no cap)', example: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  capPerDay?: number | null;

  @ApiPropertyOptional({ description: 'At most this many per customer in 7 days (null: no cap)', example: 3 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  capPerWeek?: number | null;

  @ApiPropertyOptional({ description: 'How long a failing delivery is retried, seconds (default one day)', example: 86400 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 86_400)
  retryForSeconds?: number;

  @ApiPropertyOptional({ description: 'webhook: how long one attempt waits for an answer, ms', example: 10000 })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs?: number;
}

export class ListDeliveriesQueryDto extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {
  @ApiPropertyOptional({ description: 'Only this customer’s deliveries' })
  @IsOptional()
  @IsUUID()
  profileId?: string;

  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'failed'])
  status?: 'pending' | 'delivered' | 'failed';
}

export class ListEnrollmentsQueryDto extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {
  @ApiPropertyOptional({ description: 'Only this customer’s enrollments' })
  @IsOptional()
  @IsUUID()
  profileId?: string;
}
