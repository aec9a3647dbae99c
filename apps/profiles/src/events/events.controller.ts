import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EventResponseDto } from './events.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get(':id')
  @ApiOkResponse({ type: EventResponseDto })
  @ApiNotFoundResponse({ description: 'No event with this messageId has been stored.' })
  async get(@Param('id') id: string): Promise<EventResponseDto> {
    const event = await this.events.findEvent(id);
    if (!event) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `No event with id "${id}"`, details: [{ field: 'id', problem: 'not found' }] });
    }
    return EventResponseDto.from(event);
  }
}
