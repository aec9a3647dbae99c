import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { ApiKeysAdminModule, platformModules } from '@segmenta/chassis';
import { IngestionConfig } from './config';
import * as tables from './db/schema';
import { TrackingModule } from './tracking/tracking.module';

@Module({})
export class AppModule {
  static register(config: IngestionConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [...platformModules({ service: 'ingestion', config, migrationsFolder: join(__dirname, 'db', 'migrations'), tables }), TrackingModule, ApiKeysAdminModule],
      providers: [{ provide: IngestionConfig, useValue: config }],
      exports: [IngestionConfig],
    };
  }
}
