import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CallerKeyId, RequireScope } from '@segmenta/chassis';
import { CreateJourneyDto, JOURNEY_EXAMPLE, JourneyStatusDto, ListJourneysQueryDto, UpdateJourneyDto } from './journeys.dto';
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
