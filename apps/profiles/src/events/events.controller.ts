import { Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '@segmenta/chassis';
import { EventResponseDto } from './events.dto';
import { EventsService } from './events.service';

// Events carry traits such as e-mail addresses: admin scope, like the profiles they belong to.
@ApiTags('events')
@ApiBearerAuth()
@UseGuards(AdminGuard)
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
