import { Module } from '@nestjs/common';
import { MembershipModule } from '../membership/membership.module';
import { SegmentsModule } from '../segments/segments.module';
import { SegmentDiscoveryController } from './segment-discovery.controller';
import { SegmentDiscoveryRepository } from './segment-discovery.repository';
import { SegmentDiscoveryService } from './segment-discovery.service';

/** Discovered micro-segments: k-means++ clusters stored as cluster segments with persona cards. */
@Module({ imports: [MembershipModule, SegmentsModule], controllers: [SegmentDiscoveryController], providers: [SegmentDiscoveryRepository, SegmentDiscoveryService] })
export class SegmentDiscoveryModule {}
