import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { firstValueFrom, timeout } from 'rxjs';
import { UnavailableError } from '@segmenta/chassis';
import { MEMBERSHIP_SNAPSHOT_PATTERNS, MembershipHeadV1, MembershipPageV1, MembershipSnapshotRowV1, SegmentNameV1, type MembershipPageRequestV1 } from '@segmenta/contracts';
import { PrefixedNatsClient, assertMessageData, parseMessageData } from '@segmenta/messaging';
import { OffersConfig } from '../config';

/** How long one request to segmentation may take: a page of thousands of rows is one indexed range read. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Segmentation's membership snapshot over NATS request/reply (MEMBERSHIP_SNAPSHOT_PATTERNS); replies are validated. */
@Injectable()
export class SegmentationClient implements OnApplicationShutdown {
  private readonly client: PrefixedNatsClient;

  constructor(config: OffersConfig) {
    this.client = new PrefixedNatsClient(config.NATS_PREFIX, { servers: [config.NATS_URL], name: 'offers-segmentation-client' });
  }

  async head(): Promise<MembershipHeadV1> {
    const head = parseMessageData(MembershipHeadV1, await this.request(MEMBERSHIP_SNAPSHOT_PATTERNS.head, {}));
    for (const segment of head.segments ?? []) assertMessageData(SegmentNameV1, segment);
    return head;
  }

  async page(request: MembershipPageRequestV1): Promise<MembershipPageV1> {
    const page = parseMessageData(MembershipPageV1, await this.request(MEMBERSHIP_SNAPSHOT_PATTERNS.page, request));
    for (const row of page.rows) assertMessageData(MembershipSnapshotRowV1, row);
    if (page.next !== null && (typeof page.next !== 'object' || typeof page.next.afterSegmentId !== 'string' || typeof page.next.afterProfileId !== 'string')) {
      throw new UnavailableError('segmentation answered a membership page with an unreadable cursor');
    }
    return page;
  }

  private async request(pattern: string, data: object): Promise<unknown> {
    try {
      return await firstValueFrom(this.client.send<unknown, object>(pattern, data).pipe(timeout(REQUEST_TIMEOUT_MS)));
    } catch (error) {
      throw new UnavailableError(`segmentation did not answer ${pattern}: ${errorText(error)}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}
