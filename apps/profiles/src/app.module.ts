import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { platformModules } from '@segmenta/chassis';
import { ProfilesConfig } from './config';
import * as tables from './db/schema';
import { EventsModule } from './events/events.module';
import { ProfilesModule } from './profiles/profiles.module';

@Module({})
export class AppModule {
  static register(config: ProfilesConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [...platformModules({ service: 'profiles', config, migrationsFolder: join(__dirname, 'db', 'migrations'), tables }), ScheduleModule.forRoot(), EventsModule, ProfilesModule],
      providers: [{ provide: ProfilesConfig, useValue: config }],
      exports: [ProfilesConfig],
    };
  }
}
