import { Module } from '@nestjs/common';
import { JourneysModule } from '../journeys/journeys.module';
import { ReadModelModule } from '../read-model/read-model.module';
import { PersonalizationController } from './personalization.controller';
import { ActiveCatalog } from './active-catalog';
import { CustomerViews } from './customer-views';
import { ExperimentRulesHandler } from './experiment-rules.handler';
import { PersonalizationRepository } from './personalization.repository';
import { PersonalizationService } from './personalization.service';

/** The personalized offers API and the personalization matrix (issue 18), from the catalog and the read model; the matrix also shows the active journeys. */
@Module({
  imports: [ReadModelModule, JourneysModule],
  controllers: [PersonalizationController],
  providers: [PersonalizationRepository, ActiveCatalog, CustomerViews, PersonalizationService, ExperimentRulesHandler],
})
export class PersonalizationModule {}
