import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '@segmenta/chassis';
import { SegmentsRepository } from './segments.repository';
import { SegmentsService } from './segments.service';

/** Read side of memberships: members, the change log, overlap, size history, a profile's segments. */
@Injectable()
export class SegmentMembersService {
  constructor(
    private readonly repository: SegmentsRepository,
    private readonly segments: SegmentsService,
  ) {}

  async members(idOrKey: string, cursor: string | undefined, limit: number) {
    const segment = await this.segments.find(idOrKey);
    if (cursor !== undefined && !/^[0-9a-f-]{36}$/i.test(cursor)) throw new ValidationFailedError('cursor is not a nextCursor of this API', [{ field: 'cursor', problem: 'invalid' }]);
    const rows = await this.repository.members(segment.id, cursor, limit + 1);
    const page = rows.slice(0, limit);
    return {
      segment: { id: segment.id, key: segment.key, version: segment.version },
      // With the identifiers a marketer recognises (user id, e-mail) next to the profile id.
      members: page.map((r) => ({ profileId: r.profile_id, ...(r.identifiers ?? {}), since: new Date(r.since).toISOString() })),
      nextCursor: rows.length > limit ? page[page.length - 1].profile_id : null,
    };
  }

  async changes(idOrKey: string, after: number, limit: number) {
    const segment = await this.segments.find(idOrKey);
    const rows = await this.repository.changes(segment.id, after, limit);
    const changes = rows.map((r) => ({ seq: Number(r.seq), profileId: r.profile_id, change: r.change, segmentVersion: r.segment_version, at: new Date(r.at).toISOString() }));
    return { segment: { id: segment.id, key: segment.key }, changes, lastSeq: changes.length > 0 ? changes[changes.length - 1].seq : after, more: rows.length === limit };
  }

  async history(idOrKey: string) {
    const segment = await this.segments.find(idOrKey);
    return { segment: { id: segment.id, key: segment.key }, days: (await this.repository.sizeHistory(segment.id, 90)).reverse() };
  }

  async overlap(idsOrKeys: string[]) {
    if (idsOrKeys.length < 2) throw new ValidationFailedError('segments needs two or more segment keys or ids, comma-separated', [{ field: 'segments', problem: 'fewer than two' }]);
    const found = await Promise.all(idsOrKeys.map((k) => this.segments.find(k)));
    const rows = await this.repository.overlap(found.map((s) => s.id));
    const key = new Map(found.map((s) => [s.id, s.key]));
    const count = (a: string, b: string) => rows.find((r) => (r.a === a && r.b === b) || (r.a === b && r.b === a))?.n ?? 0;
    return {
      segments: found.map((s) => ({ key: s.key, size: count(s.id, s.id) })),
      pairs: found.flatMap((a, i) =>
        found.slice(i + 1).map((b) => {
          const both = count(a.id, b.id);
          const union = count(a.id, a.id) + count(b.id, b.id) - both;
          return { a: key.get(a.id), b: key.get(b.id), both, jaccard: union > 0 ? both / union : 0 };
        }),
      ),
    };
  }

  async segmentsOf(profileId: string) {
    const rows = await this.repository.segmentsOf(profileId);
    return { profileId, segments: rows.map((r) => ({ id: r.id, key: r.key, name: r.name, kind: r.kind, since: new Date(r.since).toISOString() })) };
  }
}
