import { Module } from '@nestjs/common';
import { FeaturesModule } from '../features/features.module';
import { IdentityModule } from '../identity/identity.module';
import { ActivityHandler } from './activity.handler';
import { ActivityService } from './activity.service';
import { ProfileStoreModule } from './profile-store.module';

/** The EVENTS consumer: identity resolution, the event log, traits and per-event features. */
@Module({
  imports: [ProfileStoreModule, FeaturesModule, IdentityModule],
  providers: [ActivityHandler, ActivityService],
})
export class ActivityModule {}
