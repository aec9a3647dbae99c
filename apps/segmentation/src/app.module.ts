import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { platformModules } from '@segmenta/chassis';
import { SegmentationConfig } from './config';
import * as tables from './db/schema';
import { SegmentDiscoveryModule } from './discovery/segment-discovery.module';
import { SegmentKpisModule } from './kpis/segment-kpis.module';
import { MembershipModule } from './membership/membership.module';
import { MembershipSnapshotModule } from './membership-snapshot/membership-snapshot.module';
import { ReadModelModule } from './read-model/read-model.module';
import { SegmentReferencesModule } from './references/segment-references.module';
import { SegmentsModule } from './segments/segments.module';

@Module({})
export class AppModule {
  static register(config: SegmentationConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ...platformModules({ service: 'segmentation', config, migrationsFolder: join(__dirname, 'db', 'migrations'), tables, outbox: true }),
        ScheduleModule.forRoot(),
        MembershipModule,
        SegmentReferencesModule,
        SegmentsModule,
        ReadModelModule,
        SegmentKpisModule,
        SegmentDiscoveryModule,
        MembershipSnapshotModule,
      ],
      providers: [{ provide: SegmentationConfig, useValue: config }],
      exports: [SegmentationConfig],
    };
  }
}
