import type { MembershipPageV1, MembershipSnapshotRowV1 } from '@segmenta/contracts';

/**
 * A page from `limit + 1` rows read in (segmentId, profileId) order: the extra row only says that
 * another page follows, whose cursor is the last row returned.
 */
export function assemblePage(rows: MembershipSnapshotRowV1[], limit: number): MembershipPageV1 {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > limit && last ? { afterSegmentId: last.segmentId, afterProfileId: last.profileId } : null };
}
