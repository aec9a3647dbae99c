import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection } from 'nats';
import type { SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { createEnvelope } from '@segmenta/messaging';

/** What experiments' e2e tests send: fixed customer ids, segment entries, and messages published as the other services would. */

const codec = JSONCodec();

/** Customer i's profile id: the same on every run, so assignments (and intervals) are too. */
export const testCustomerId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** segments.entered for each customer, numbered from `firstSeq`. */
export function segmentEntries(profileIds: readonly string[], segmentKey: string, firstSeq = 1): SegmentMembershipChangedV1[] {
  const segmentId = randomUUID();
  return profileIds.map((profileId, i) => ({ seq: firstSeq + i, segmentId, segmentKey, segmentVersion: 1, profileId, change: 'entered', at: new Date().toISOString() }));
}

/** Publishes `items` on the prefixed subject through JetStream, 200 at a time; `ids` are the envelopes' ids (default random). */
export async function publishAll(nc: NatsConnection, prefix: string, subject: string, items: readonly unknown[], ids?: readonly string[]): Promise<void> {
  const js = nc.jetstream();
  for (let i = 0; i < items.length; i += 200)
    await Promise.all(items.slice(i, i + 200).map((data, j) => js.publish(`${prefix}.${subject}`, codec.encode(createEnvelope(subject, data, { id: ids?.[i + j] ?? randomUUID() })))));
}
