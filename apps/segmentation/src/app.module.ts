import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { platformModules } from '@segmenta/chassis';
import { SegmentationConfig } from './config';
import * as tables from './db/schema';
import { SegmentsModule } from './segments/segments.module';

@Module({})
export class AppModule {
  static register(config: SegmentationConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [...platformModules({ service: 'segmentation', config, migrationsFolder: join(__dirname, 'db', 'migrations'), tables }), ScheduleModule.forRoot(), SegmentsModule],
      providers: [{ provide: SegmentationConfig, useValue: config }],
      exports: [SegmentationConfig],
    };
  }
}
