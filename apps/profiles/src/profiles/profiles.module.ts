import { Module } from '@nestjs/common';
import { ProfileStoreModule } from '../activity/profile-store.module';
import { EventsModule } from '../events/events.module';
import { FeaturesModule } from '../features/features.module';
import { ProfilesController } from './profiles.controller';
import { ProfilesRepository } from './profiles.repository';
import { ProfilesService } from './profiles.service';

/** The profile API: look-ups, events, merges, erasure, and the feature and model runs on demand. */
@Module({
  imports: [EventsModule, ProfileStoreModule, FeaturesModule],
  controllers: [ProfilesController],
  providers: [ProfilesRepository, ProfilesService],
})
export class ProfilesModule {}
