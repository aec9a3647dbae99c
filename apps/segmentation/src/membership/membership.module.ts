import { Module } from '@nestjs/common';
import { SegmentCatalog } from '../segments/segment-catalog.service';
import { Clock } from './clock';
import { MembershipRepository } from './membership.repository';
import { MembershipService } from './membership.service';

/**
 * Membership evaluation (real time and recompute), the change log and its publishing. It also
 * provides SegmentCatalog, the definitions it evaluates: segments, read model, KPIs and discovery
 * all build on it, so the catalog sits here rather than in SegmentsModule (no module cycle).
 */
@Module({
  providers: [Clock, SegmentCatalog, MembershipRepository, MembershipService],
  exports: [Clock, SegmentCatalog, MembershipRepository, MembershipService],
})
export class MembershipModule {}
