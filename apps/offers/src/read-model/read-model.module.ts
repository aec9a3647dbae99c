import { Module } from '@nestjs/common';
import { EligibilityLookupService } from './eligibility-lookup.service';
import { ReadModelStatusService } from './read-model-status.service';
import { ReadModelController } from './read-model.controller';
import { ReadModelHandler } from './read-model.handler';
import { ReadModelRepository } from './read-model.repository';
import { ReadModelService } from './read-model.service';
import { RebuildService } from './rebuild.service';
import { SegmentationClient } from './segmentation.client';

/**
 * Offers' read model of segment memberships and profile facts (issue 18), fed by SEGMENTS and
 * PROFILES and rebuilt from segmentation on demand; EligibilityLookupService is what other
 * modules read it through.
 */
@Module({
  controllers: [ReadModelController],
  providers: [ReadModelRepository, ReadModelService, ReadModelHandler, SegmentationClient, RebuildService, ReadModelStatusService, EligibilityLookupService],
  exports: [EligibilityLookupService],
})
export class ReadModelModule {}
