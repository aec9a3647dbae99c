import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { platformModules } from '@segmenta/chassis';
import { OffersConfig } from './config';
import { CatalogModule } from './catalog/catalog.module';
import { PersonalizationModule } from './personalization/personalization.module';
import { RedemptionsModule } from './redemptions/redemptions.module';
import { JourneysModule } from './journeys/journeys.module';
import { LoyaltyModule } from './loyalty/loyalty.module';
import { ReadModelModule } from './read-model/read-model.module';
import * as tables from './db/schema';

@Module({})
export class AppModule {
  static register(config: OffersConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ...platformModules({ service: 'offers', config, migrationsFolder: join(__dirname, 'db', 'migrations'), tables, outbox: true }),
        ScheduleModule.forRoot(),
        // Before the catalog: GET /v1/offers/status must not be taken for the offer keyed `status`.
        ReadModelModule,
        CatalogModule,
        RedemptionsModule,
        PersonalizationModule,
        LoyaltyModule,
        JourneysModule,
      ],
      providers: [{ provide: OffersConfig, useValue: config }],
      exports: [OffersConfig],
    };
  }
}
