import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { platformModules } from '@segmenta/chassis';
import { SegmentationConfig } from './config';
import * as tables from './db/schema';

@Module({})
export class AppModule {
  static register(config: SegmentationConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [...platformModules({ service: 'segmentation', config, migrationsFolder: join(__dirname, 'db', 'migrations'), tables })],
      providers: [{ provide: SegmentationConfig, useValue: config }],
      exports: [SegmentationConfig],
    };
  }
}
