import { Module } from '@nestjs/common';
import { SegmentDiscoveryService } from '../discovery/segment-discovery.service';
import { SegmentKpisRepository } from '../kpis/segment-kpis.repository';
import { SegmentKpisService } from '../kpis/segment-kpis.service';
import { Clock } from '../membership/clock';
import { MembershipRepository } from '../membership/membership.repository';
import { MembershipService } from '../membership/membership.service';
import { SegmentReferencesHandler } from '../references/segment-references.handler';
import { SegmentReferencesRepository } from '../references/segment-references.repository';
import { ReadModelHandler } from '../read-model/read-model.handler';
import { ReadModelService } from '../read-model/read-model.service';
import { SegmentCatalog } from './segment-catalog.service';
import { SegmentMembersService } from './segment-members.service';
import { SegmentsController } from './segments.controller';
import { SegmentsLifecycle } from './segments-lifecycle.service';
import { SegmentsRepository } from './segments.repository';
import { SegmentsService } from './segments.service';

/** Segments: definitions, the profile read model, real-time and scheduled membership, the API. */
@Module({
  controllers: [SegmentsController],
  providers: [Clock, SegmentCatalog, SegmentsRepository, SegmentsService, SegmentMembersService, SegmentsLifecycle, MembershipRepository, MembershipService, ReadModelService, ReadModelHandler, SegmentReferencesRepository, SegmentReferencesHandler, SegmentKpisRepository, SegmentKpisService, SegmentDiscoveryService],
  exports: [Clock],
})
export class SegmentsModule {}
