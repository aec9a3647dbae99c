import { Module } from '@nestjs/common';
import { AssignmentRpcController, ExperimentsController } from './experiments.controller';
import { ExperimentsRepository } from './experiments.repository';
import { ExperimentsService } from './experiments.service';
import { ExperimentMetricsService } from '../results/experiment-metrics.service';
import { MetricEventsHandler } from '../results/metric-events.handler';
import { BanditScheduler } from './bandit-scheduler';
import { ExposureWriter } from './exposure-writer';
import { ExposuresHandler } from './exposures.handler';
import { MembershipsHandler } from './memberships.handler';

/** Experiments (issue 21): definitions, statuses, assignment, exposures, metrics and results. */
@Module({
  controllers: [ExperimentsController, AssignmentRpcController],
  providers: [ExperimentsRepository, ExperimentsService, ExposureWriter, BanditScheduler, MembershipsHandler, ExposuresHandler, ExperimentMetricsService, MetricEventsHandler],
  exports: [ExperimentsService, ExperimentsRepository],
})
export class ExperimentsModule {}
