import { Module } from '@nestjs/common';
import { ActivityHandler } from '../activity/activity.handler';
import { ActivityService } from '../activity/activity.service';
import { ProfileStoreRepository } from '../activity/profile-store.repository';
import { EventsModule } from '../events/events.module';
import { FeatureContext } from '../features/feature-context.service';
import { FeaturesService } from '../features/features.service';
import { CustomerModelsService } from '../features/customer-models.service';
import { PropensityService } from '../features/propensity.service';
import { BlocklistController } from '../identity/blocklist.controller';
import { BlocklistService } from '../identity/blocklist.service';
import { OutboxPublisher } from '../outbox/outbox.publisher';
import { ProfilesController } from './profiles.controller';
import { ProfilesRepository } from './profiles.repository';
import { ProfilesService } from './profiles.service';

/** The customer 360: identity resolution, the event log, traits, features and the profile API. */
@Module({
  imports: [EventsModule],
  controllers: [ProfilesController, BlocklistController],
  providers: [ActivityHandler, ActivityService, ProfileStoreRepository, FeatureContext, FeaturesService, CustomerModelsService, PropensityService, BlocklistService, OutboxPublisher, ProfilesRepository, ProfilesService],
})
export class ProfilesModule {}
