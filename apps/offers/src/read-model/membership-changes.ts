/** One membership change as the read model applies it (segments.entered/exited, or a snapshot row). */
export interface MembershipChange {
  segmentId: string;
  segmentKey: string;
  profileId: string;
  member: boolean;
  /** Segmentation's change-log seq: every change of every segment, numbered. */
  seq: number;
  at: string;
}

/**
 * The seq guard: a change replaces what is stored for its (segment, profile) only when it is
 * newer, so a redelivered, replayed or older change never regresses a membership. The repository's
 * upsert applies the same rule in SQL (`where excluded.seq > stored.seq`).
 */
export function supersedes(storedSeq: number | undefined, change: Pick<MembershipChange, 'seq'>): boolean {
  return storedSeq === undefined || change.seq > storedSeq;
}

/**
 * The newest change of each (segment, profile) pair of a batch: one statement upserts each row
 * once, and a batch may hold an entry and the exit that followed it (possibly out of order).
 */
export function latestPerPair(changes: readonly MembershipChange[]): MembershipChange[] {
  const latest = new Map<string, MembershipChange>();
  for (const change of changes) {
    const key = `${change.segmentId}/${change.profileId}`;
    if (supersedes(latest.get(key)?.seq, change)) latest.set(key, change);
  }
  return [...latest.values()].sort((a, b) => a.seq - b.seq);
}

/** The last change of a batch (highest seq) and when it happened: the read model's progress. */
export function progressOf(changes: readonly MembershipChange[]): { seq: number; at: string } | null {
  let last: MembershipChange | null = null;
  for (const change of changes) if (!last || change.seq > last.seq) last = change;
  return last && { seq: last.seq, at: last.at };
}
