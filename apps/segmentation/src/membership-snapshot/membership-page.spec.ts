import type { MembershipSnapshotRowV1 } from '@segmenta/contracts';
import { assemblePage } from './membership-page';

const row = (n: number): MembershipSnapshotRowV1 => ({
  segmentId: `00000000-0000-4000-8000-${String(Math.floor(n / 10)).padStart(12, '0')}`,
  segmentKey: `s${Math.floor(n / 10)}`,
  profileId: `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  seq: n,
});

describe('assemblePage', () => {
  it.each([
    { read: 0, limit: 3, returned: 0, next: false },
    { read: 2, limit: 3, returned: 2, next: false },
    { read: 3, limit: 3, returned: 3, next: false },
    { read: 4, limit: 3, returned: 3, next: true },
  ])('returns $returned of $read rows read for a limit of $limit (next page: $next)', ({ read, limit, returned, next }) => {
    const rows = Array.from({ length: read }, (_, i) => row(i + 1));
    const page = assemblePage(rows, limit);
    expect(page.rows).toEqual(rows.slice(0, returned));
    expect(page.next !== null).toBe(next);
  });

  it('continues after the last row returned, not after the extra row', () => {
    const rows = [row(1), row(12), row(13)];
    expect(assemblePage(rows, 2).next).toEqual({ afterSegmentId: rows[1].segmentId, afterProfileId: rows[1].profileId });
  });
});
