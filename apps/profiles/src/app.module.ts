import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { platformModules } from '@segmenta/chassis';
import { ActivityModule } from './activity/activity.module';
import { ProfilesConfig } from './config';
import * as tables from './db/schema';
import { EventsModule } from './events/events.module';
import { FeaturesModule } from './features/features.module';
import { IdentityModule } from './identity/identity.module';
import { ProfilesModule } from './profiles/profiles.module';

@Module({})
export class AppModule {
  static register(config: ProfilesConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ...platformModules({ service: 'profiles', config, migrationsFolder: join(__dirname, 'db', 'migrations'), tables, outbox: true }),
        ScheduleModule.forRoot(),
        EventsModule,
        IdentityModule,
        FeaturesModule,
        ActivityModule,
        ProfilesModule,
      ],
      providers: [{ provide: ProfilesConfig, useValue: config }],
      exports: [ProfilesConfig],
    };
  }
}
