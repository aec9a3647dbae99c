import { Module } from '@nestjs/common';
import { SegmentReferencesHandler } from './segment-references.handler';
import { SegmentReferencesRepository } from './segment-references.repository';

/** Which offers, journeys and experiments of other services target a segment (kept from their events). */
@Module({ providers: [SegmentReferencesRepository, SegmentReferencesHandler], exports: [SegmentReferencesRepository] })
export class SegmentReferencesModule {}
