import { Controller } from '@nestjs/common';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { MEMBERSHIP_SNAPSHOT_PATTERNS, MembershipPageRequestV1, type MembershipHeadV1, type MembershipPageV1 } from '@segmenta/contracts';
import { parseMessageData } from '@segmenta/messaging';
import { assemblePage } from './membership-page';
import { MembershipSnapshotRepository } from './membership-snapshot.repository';

/**
 * Memberships page by page over NATS request/reply, so that a read model (offers) rebuilds to
 * exactly these memberships when SEGMENTS no longer holds the old changes. No HTTP route.
 */
@Controller()
export class MembershipSnapshotController {
  constructor(private readonly repository: MembershipSnapshotRepository) {}

  @MessagePattern(MEMBERSHIP_SNAPSHOT_PATTERNS.head)
  head(): Promise<MembershipHeadV1> {
    return this.repository.head();
  }

  @MessagePattern(MEMBERSHIP_SNAPSHOT_PATTERNS.page)
  async page(@Payload() payload: unknown): Promise<MembershipPageV1> {
    let request: MembershipPageRequestV1;
    try {
      request = parseMessageData(MembershipPageRequestV1, payload);
    } catch (error) {
      throw new RpcException({ status: 'invalid', message: (error as Error).message });
    }
    if ((request.afterSegmentId === undefined) !== (request.afterProfileId === undefined)) {
      throw new RpcException({ status: 'invalid', message: 'afterSegmentId and afterProfileId go together' });
    }
    const after = request.afterSegmentId && request.afterProfileId ? { segmentId: request.afterSegmentId, profileId: request.afterProfileId } : undefined;
    return assemblePage(await this.repository.page(after, request.limit + 1), request.limit);
  }
}
