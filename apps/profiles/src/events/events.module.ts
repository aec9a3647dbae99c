import { Module } from '@nestjs/common';
import { EventsController } from './events.controller';
import { EventsHandler } from './events.handler';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

@Module({ controllers: [EventsController], providers: [EventsHandler, EventsService, EventsRepository] })
export class EventsModule {}
