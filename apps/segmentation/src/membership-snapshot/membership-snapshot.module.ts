import { Module } from '@nestjs/common';
import { MembershipSnapshotController } from './membership-snapshot.controller';
import { MembershipSnapshotRepository } from './membership-snapshot.repository';

/** segmentation.memberships.head / .page: memberships for other services' read models to rebuild from. */
@Module({ controllers: [MembershipSnapshotController], providers: [MembershipSnapshotRepository] })
export class MembershipSnapshotModule {}
