import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { TrackAcceptedResponseDto, TrackEventDto } from './tracking.dto';
import { TrackingService } from './tracking.service';

@ApiTags('tracking')
@Controller('v1')
export class TrackingController {
  constructor(private readonly tracking: TrackingService) {}

  @Post('track')
  @HttpCode(200)
  @ApiOkResponse({ type: TrackAcceptedResponseDto, description: 'Stored durably on the EVENTS stream.' })
  @ApiBadRequestResponse({ description: 'A field is invalid; `details` names each one.' })
  @ApiServiceUnavailableResponse({ description: 'JetStream did not acknowledge; retry with the same messageId.' })
  track(@Body() body: TrackEventDto): Promise<TrackAcceptedResponseDto> {
    return this.tracking.track(body);
  }
}
