import { Module } from '@nestjs/common';
import { AssignmentRpcController, ExperimentsController } from './experiments.controller';
import { ExperimentsRepository } from './experiments.repository';
import { ExperimentsService } from './experiments.service';
import { ConversionsHandler } from '../results/conversions.handler';
import { CovariatesHandler } from '../results/covariates.handler';
import { ExposuresHandler } from './exposures.handler';
import { MembershipsHandler } from './memberships.handler';

/** Experiments (issue 21): definitions, statuses, assignment and exposures; results come next. */
@Module({
  controllers: [ExperimentsController, AssignmentRpcController],
  providers: [ExperimentsRepository, ExperimentsService, MembershipsHandler, ExposuresHandler, ConversionsHandler, CovariatesHandler],
  exports: [ExperimentsService],
})
export class ExperimentsModule {}
