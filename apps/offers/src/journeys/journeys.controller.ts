import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CallerKeyId, RequireScope } from '@segmenta/chassis';
import { JourneyChannelsService } from './journey-channels.service';
import {
  CHANNEL_EXAMPLE,
  CreateJourneyDto,
  JOURNEY_EXAMPLE,
  PutChannelDto,
  JourneyStatusDto,
  ListDeliveriesQueryDto,
  ListEnrollmentsQueryDto,
  ListJourneysQueryDto,
  UpdateJourneyDto,
} from './journeys.dto';
import { JourneysService } from './journeys.service';

/** Journey definitions: the loyalty team's (`admin`); the GET routes also take `read`. */
@ApiTags('journeys')
@RequireScope('admin')
@Controller('v1/journeys')
export class JourneysController {
  constructor(private readonly journeys: JourneysService) {}

  @Post()
  @ApiOperation({ summary: 'Create a journey (a draft) with its first version; the definition is checked field by field' })
  @ApiResponse({ status: 201, schema: { example: { ...JOURNEY_EXAMPLE, status: 'draft', version: 1 } } })
  @ApiResponse({ status: 400, description: 'A field of the definition is wrong: details name each (definition.steps[2].next, definition.trigger.segment, …); nothing is saved.' })
  @ApiResponse({ status: 409, description: 'The key is taken.' })
  create(@Body() body: CreateJourneyDto, @CallerKeyId() actor: string) {
    return this.journeys.create(body, actor);
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Journeys in key order, filtered by ?status=, cursor-paginated (nextCursor)' })
  @ApiResponse({
    status: 200,
    schema: { example: { journeys: [{ key: 'camera-fans-10', name: 'Camera fans: 10 % off, once', status: 'active', version: 2, updatedAt: '2026-12-03T11:00:00.000Z' }], nextCursor: null } },
  })
  list(@Query() query: ListJourneysQueryDto) {
    return this.journeys.list(query);
  }

  @Get(':key')
  @RequireScope('read')
  @ApiOperation({ summary: 'A journey with its current version’s definition' })
  @ApiResponse({ status: 200, schema: { example: JOURNEY_EXAMPLE } })
  @ApiResponse({ status: 404, description: 'No such journey.' })
  get(@Param('key') key: string) {
    return this.journeys.get(key);
  }

  @Get(':key/versions')
  @RequireScope('read')
  @ApiOperation({ summary: 'Every version of a journey’s definition, newest first, with the key that saved it' })
  @ApiResponse({ status: 200, schema: { example: { versions: [{ version: 2, definition: JOURNEY_EXAMPLE.definition, actor: 'ADMIN_API_KEY', createdAt: '2026-12-03T11:00:00.000Z' }] } } })
  versions(@Param('key') key: string) {
    return this.journeys.versions(key);
  }

  @Get(':key/report')
  @RequireScope('read')
  @ApiOperation({ summary: 'How the journey is doing: entered, running, completed, exited, converted; per step waited, sent, delivered, failed, skipped by a cap, and at the step now' })
  @ApiResponse({
    status: 200,
    schema: {
      example: {
        key: 'camera-fans-10',
        version: 2,
        status: 'active',
        entered: 1200,
        active: 310,
        completed: 700,
        exited: 90,
        converted: 100,
        steps: [{ id: 'email', type: 'send', atStepNow: 0, waited: 0, sent: 1150, delivered: 1148, pending: 0, failed: 2, skippedByCap: 50, skippedOther: 0, branched: 0 }],
      },
    },
  })
  report(@Param('key') key: string) {
    return this.journeys.report(key);
  }

  @Get(':key/enrollments')
  @RequireScope('read')
  @ApiOperation({ summary: 'Who entered, newest first, with each step they ran: sent, skipped and why (a cap, a channel, an offer), waited until, the branch taken; filter by ?profileId=' })
  @ApiResponse({
    status: 200,
    schema: {
      example: {
        enrollments: [
          {
            id: '3c1d9a52-7e4f-4b8a-9c2d-1e5f6a7b8c9d',
            profileId: '6f1c2a8e-3b5d-4c7e-9f10-2a3b4c5d6e7f',
            version: 2,
            status: 'completed',
            nextStep: null,
            dueAt: null,
            enteredAt: '2026-12-03T10:00:00.000Z',
            endedAt: '2026-12-03T10:00:00.050Z',
            endReason: 'reached the end',
            failures: 0,
            lastError: null,
            steps: [{ step: 'email', outcome: 'skipped', detail: 'frequency cap: 1 per day reached', at: '2026-12-03T10:00:00.050Z' }],
          },
        ],
        nextCursor: null,
      },
    },
  })
  enrollments(@Param('key') key: string, @Query() query: ListEnrollmentsQueryDto) {
    return this.journeys.enrollments(key, query);
  }

  @Get(':key/deliveries')
  @RequireScope('read')
  @ApiOperation({ summary: 'The journey’s sends, newest first, with every attempt (status or error, duration); filter by ?profileId= and ?status=, cursor-paginated' })
  @ApiResponse({
    status: 200,
    schema: {
      example: {
        deliveries: [
          {
            id: '0b9f7f3e-5d0e-4f5c-9a51-2d7c2b1c9e10',
            step: 'email',
            profileId: '6f1c2a8e-3b5d-4c7e-9f10-2a3b4c5d6e7f',
            channel: 'email',
            status: 'delivered',
            attempts: [
              { attempt: 1, at: '2026-12-03T10:00:00.120Z', statusCode: 503, error: 'HTTP 503', durationMs: 12 },
              { attempt: 2, at: '2026-12-03T10:00:00.910Z', statusCode: 200, error: null, durationMs: 9 },
            ],
            lastError: null,
            createdAt: '2026-12-03T10:00:00.100Z',
            finishedAt: '2026-12-03T10:00:00.920Z',
            payload: { journey: 'camera-fans-10', step: 'email', offer: { key: 'cameras-10', name: '10 % off cameras', code: 'CAM-7KQ2' } },
          },
        ],
        nextCursor: null,
      },
    },
  })
  deliveries(@Param('key') key: string, @Query() query: ListDeliveriesQueryDto) {
    return this.journeys.deliveries(key, query);
  }

  @Patch(':key')
  @ApiOperation({ summary: 'Rename, and with a definition save a new version: new entries run it, customers already in the journey finish on theirs' })
  @ApiResponse({ status: 200, schema: { example: JOURNEY_EXAMPLE } })
  @ApiResponse({ status: 409, description: 'The journey is archived.' })
  update(@Param('key') key: string, @Body() body: UpdateJourneyDto, @CallerKeyId() actor: string) {
    return this.journeys.update(key, body, actor);
  }

  @Post(':key/status')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move to another status: draft → active | archived; active → paused | archived; paused → active | archived; archived is final' })
  @ApiResponse({ status: 200, schema: { example: JOURNEY_EXAMPLE } })
  @ApiResponse({ status: 409, description: 'The move is not allowed (the message lists the allowed ones).' })
  changeStatus(@Param('key') key: string, @Body() body: JourneyStatusDto) {
    return this.journeys.changeStatus(key, body.status);
  }
}

/** Channels journeys send on: the loyalty team's (`admin`); the GET routes also take `read`. */
@ApiTags('journeys')
@RequireScope('admin')
@Controller('v1/channels')
export class ChannelsController {
  constructor(private readonly channels: JourneyChannelsService) {}

  @Put(':key')
  @ApiOperation({
    summary: 'Create or replace a channel: a webhook URL (signed the Standard Webhooks way) or a NATS subject under journeys., with caps per customer and a retry time',
  })
  @ApiResponse({
    status: 200,
    description: 'A new webhook without secrets gets one, shown in `secrets` in this answer only.',
    schema: { example: { ...CHANNEL_EXAMPLE, secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] } },
  })
  @ApiResponse({ status: 400, description: 'A field is wrong (url, subject, secrets[1], …); nothing is saved.' })
  put(@Param('key') key: string, @Body() body: PutChannelDto) {
    return this.channels.put(key, body);
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Every channel (secrets as hints)' })
  @ApiResponse({ status: 200, schema: { example: { channels: [CHANNEL_EXAMPLE] } } })
  list() {
    return this.channels.list();
  }

  @Get(':key')
  @RequireScope('read')
  @ApiOperation({ summary: 'A channel (secrets as hints)' })
  @ApiResponse({ status: 200, schema: { example: CHANNEL_EXAMPLE } })
  @ApiResponse({ status: 404, description: 'No such channel.' })
  get(@Param('key') key: string) {
    return this.channels.get(key);
  }

  @Delete(':key')
  @ApiOperation({ summary: 'Delete a channel: sends to it are skipped from now on, and pending deliveries fail' })
  @ApiResponse({ status: 200, schema: { example: { deleted: true, key: 'email' } } })
  delete(@Param('key') key: string) {
    return this.channels.delete(key);
  }
}
