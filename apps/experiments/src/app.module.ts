import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { platformModules } from '@segmenta/chassis';
import { ExperimentsConfig } from './config';
import * as tables from './db/schema';
import { ExperimentsModule } from './experiments/experiments.module';
import { ProgrammeModule } from './programme/programme.module';
import { ResultsFeedModule } from './results-feed/results-feed.module';

@Module({})
export class AppModule {
  static register(config: ExperimentsConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ...platformModules({ service: 'experiments', config, migrationsFolder: join(__dirname, 'db', 'migrations'), tables, outbox: true }),
        // The results feed and the bandits' cadence are scheduled jobs.
        ScheduleModule.forRoot(),
        ExperimentsModule,
        ProgrammeModule,
        ResultsFeedModule,
      ],
      providers: [{ provide: ExperimentsConfig, useValue: config }],
      exports: [ExperimentsConfig],
    };
  }
}
