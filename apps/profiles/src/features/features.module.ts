import { Module } from '@nestjs/common';
import { ProfileStoreModule } from '../activity/profile-store.module';
import { CustomerModelsService } from './customer-models.service';
import { FeatureContext } from './feature-context.service';
import { FeaturesRepository } from './features.repository';
import { FeaturesService } from './features.service';
import { PropensityService } from './propensity.service';

/** Computed features in bulk: RFM cut points, customer models (BG/NBD, Gamma-Gamma), propensity models. */
@Module({
  imports: [ProfileStoreModule],
  providers: [FeaturesRepository, FeatureContext, FeaturesService, CustomerModelsService, PropensityService],
  exports: [FeatureContext, FeaturesService, CustomerModelsService, PropensityService],
})
export class FeaturesModule {}
