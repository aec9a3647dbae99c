import { Module } from '@nestjs/common';
import { JourneyChannelsService } from './journey-channels.service';
import { JourneyDefinitions } from './journey-definitions';
import { JourneyDeliveryWorker } from './journey-delivery.service';
import { JourneyEnrollmentService } from './journey-enrollment.service';
import { JourneyExecutor } from './journey-executor.service';
import { JourneyRunsRepository } from './journey-runs.repository';
import { JourneyTriggersHandler } from './journey-triggers.handler';
import { ChannelsController, JourneysController } from './journeys.controller';
import { JourneysRepository } from './journeys.repository';
import { JourneysService } from './journeys.service';
import { ProgrammeHoldoutReader } from '../personalization/programme-holdout';

/** Journeys (issue 20): definitions and versions, channels, enrollment from triggers, the durable executor and webhook delivery. */
@Module({
  controllers: [JourneysController, ChannelsController],
  providers: [
    JourneysRepository,
    JourneysService,
    JourneyChannelsService,
    JourneyRunsRepository,
    JourneyDefinitions,
    JourneyEnrollmentService,
    JourneyExecutor,
    JourneyDeliveryWorker,
    JourneyTriggersHandler,
    ProgrammeHoldoutReader,
  ],
  exports: [JourneysService, JourneyDefinitions, JourneyExecutor, JourneyDeliveryWorker],
})
export class JourneysModule {}
