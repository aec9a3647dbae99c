import { Module } from '@nestjs/common';
import { MembershipModule } from '../membership/membership.module';
import { SegmentsModule } from '../segments/segments.module';
import { SegmentKpisController } from './segment-kpis.controller';
import { SegmentKpisRepository } from './segment-kpis.repository';
import { SegmentKpisService } from './segment-kpis.service';

/** Segment KPI snapshots: on a schedule and on demand, published as segments.kpis. */
@Module({ imports: [MembershipModule, SegmentsModule], controllers: [SegmentKpisController], providers: [SegmentKpisRepository, SegmentKpisService] })
export class SegmentKpisModule {}
