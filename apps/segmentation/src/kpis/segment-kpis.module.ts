import { Module } from '@nestjs/common';
import { MembershipModule } from '../membership/membership.module';
import { SegmentsModule } from '../segments/segments.module';
import { ExperimentLiftHandler } from './experiment-lift.handler';
import { ExperimentLiftRepository } from './experiment-lift.repository';
import { SegmentKpisController } from './segment-kpis.controller';
import { SegmentKpisRepository } from './segment-kpis.repository';
import { SegmentKpisService } from './segment-kpis.service';

/** Segment KPI snapshots: on a schedule and on demand, published as segments.kpis, with each segment's lift per running experiment (experiments.results). */
@Module({ imports: [MembershipModule, SegmentsModule], controllers: [SegmentKpisController], providers: [SegmentKpisRepository, SegmentKpisService, ExperimentLiftRepository, ExperimentLiftHandler] })
export class SegmentKpisModule {}
