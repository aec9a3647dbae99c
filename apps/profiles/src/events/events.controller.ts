import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { NotFoundError, RequireScope } from '@segmenta/chassis';
import { EventLookupQueryDto, EventResponseDto } from './events.dto';
import { EventsService } from './events.service';

// Events carry traits such as e-mail addresses: admin scope (read for GET), like the profiles they belong to.
@ApiTags('events')
@RequireScope('admin')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get(':id')
  @ApiOkResponse({ type: EventResponseDto })
  @ApiNotFoundResponse({ description: 'No event with this messageId (from this source) has been stored.' })
  async get(@Param('id') id: string, @Query() query: EventLookupQueryDto): Promise<EventResponseDto> {
    const event = await this.events.findEvent(id, query.sourceId);
    if (!event) {
      throw new NotFoundError(`No event with id "${id}"`, [{ field: 'id', problem: 'not found' }]);
    }
    return EventResponseDto.from(event);
  }
}
