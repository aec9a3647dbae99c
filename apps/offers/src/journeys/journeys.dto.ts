import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
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
