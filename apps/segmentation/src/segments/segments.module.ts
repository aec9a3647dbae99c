import { Module } from '@nestjs/common';
import { MembershipModule } from '../membership/membership.module';
import { SegmentReferencesModule } from '../references/segment-references.module';
import { SegmentMembersService } from './segment-members.service';
import { SegmentsController } from './segments.controller';
import { SegmentsLifecycle } from './segments-lifecycle.service';
import { SegmentsRepository } from './segments.repository';
import { SegmentsService } from './segments.service';

/** Segments: definitions with versions, preview, members and their log, the segment API. */
@Module({
  imports: [MembershipModule, SegmentReferencesModule],
  controllers: [SegmentsController],
  providers: [SegmentsRepository, SegmentsService, SegmentMembersService, SegmentsLifecycle],
  exports: [SegmentsRepository, SegmentsService],
})
export class SegmentsModule {}
