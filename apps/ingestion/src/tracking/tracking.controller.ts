import { Body, Controller, HttpCode, Post, Req, UseGuards, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiExtension,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { REQUIRED_SCOPE_EXTENSION } from '@segmenta/chassis';
import type { Source } from '../sources/sources.repository';
import { AcceptedResponseDto, AliasDto, BatchDto, GroupDto, IdentifyDto, PageDto, ScreenDto, TrackDto } from './tracking.dto';
import { TrackingService } from './tracking.service';
import { WriteKeyGuard, type TrackingRequest } from './write-key.guard';

/**
 * The parsed JSON body, left alone by the global ValidationPipe (it skips custom decorators): the
 * batch endpoint validates its members itself, with compiled checks, instead of having the pipe
 * deep-copy and validate a 500 KB body on every request.
 */
const UncheckedBody = createParamDecorator((_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<{ body: unknown }>().body);

/** The Segment HTTP tracking API: existing Segment SDKs work by pointing them at this host. */
@ApiTags('tracking (Segment API)')
@ApiBasicAuth()
// Write keys (per source), not API keys: no scope applies.
@ApiExtension(REQUIRED_SCOPE_EXTENSION, 'write-key')
@ApiOkResponse({ type: AcceptedResponseDto, description: 'Stored durably on the EVENTS stream.' })
@ApiBadRequestResponse({ description: 'A field is invalid; `details` names each one.' })
@ApiUnauthorizedResponse({ description: 'Missing, unknown or disabled write key.' })
@ApiPayloadTooLargeResponse({ description: 'A message over 32 KB or a batch over 500 KB.' })
@ApiServiceUnavailableResponse({ description: 'JetStream did not acknowledge; retry with the same messageIds.' })
@UseGuards(WriteKeyGuard)
@Controller('v1')
export class TrackingController {
  constructor(private readonly tracking: TrackingService) {}

  @Post('identify')
  @HttpCode(200)
  identify(@Body() body: IdentifyDto, @Req() req: TrackingRequest): Promise<AcceptedResponseDto> {
    return this.tracking.acceptOne('identify', body, req.body, req.source as Source);
  }

  @Post('track')
  @HttpCode(200)
  track(@Body() body: TrackDto, @Req() req: TrackingRequest): Promise<AcceptedResponseDto> {
    return this.tracking.acceptOne('track', body, req.body, req.source as Source);
  }

  @Post('page')
  @HttpCode(200)
  page(@Body() body: PageDto, @Req() req: TrackingRequest): Promise<AcceptedResponseDto> {
    return this.tracking.acceptOne('page', body, req.body, req.source as Source);
  }

  @Post('screen')
  @HttpCode(200)
  screen(@Body() body: ScreenDto, @Req() req: TrackingRequest): Promise<AcceptedResponseDto> {
    return this.tracking.acceptOne('screen', body, req.body, req.source as Source);
  }

  @Post('group')
  @HttpCode(200)
  group(@Body() body: GroupDto, @Req() req: TrackingRequest): Promise<AcceptedResponseDto> {
    return this.tracking.acceptOne('group', body, req.body, req.source as Source);
  }

  @Post('alias')
  @HttpCode(200)
  alias(@Body() body: AliasDto, @Req() req: TrackingRequest): Promise<AcceptedResponseDto> {
    return this.tracking.acceptOne('alias', body, req.body, req.source as Source);
  }

  @Post('batch')
  @HttpCode(200)
  @ApiBody({ type: BatchDto })
  batch(@UncheckedBody() body: unknown, @Req() req: TrackingRequest): Promise<AcceptedResponseDto> {
    return this.tracking.acceptBatch(body, req.source as Source);
  }
}
