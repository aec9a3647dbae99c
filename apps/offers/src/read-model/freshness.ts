/** How far the membership read model is behind segmentation's change log. */
export interface Freshness {
  lastAppliedSeq: number;
  lastAppliedAt: string | null;
  /** null when segmentation did not answer. */
  segmentationSeq: number | null;
  segmentationAt: string | null;
  lagChanges: number | null;
  /** Seconds since the last applied change while changes are pending; 0 when caught up. */
  lagSeconds: number | null;
}

export function freshness(applied: { seq: number; at: string | null }, head: { seq: number; at: string | null } | null, now: number): Freshness {
  const base = { lastAppliedSeq: applied.seq, lastAppliedAt: applied.at };
  if (!head) return { ...base, segmentationSeq: null, segmentationAt: null, lagChanges: null, lagSeconds: null };
  const lagChanges = Math.max(0, head.seq - applied.seq);
  let lagSeconds = 0;
  if (lagChanges > 0) {
    // Behind: since the last change applied (or, with none applied, since the oldest pending one can have happened: unknown → since the head).
    const since = applied.at ?? head.at;
    lagSeconds = since ? Math.max(0, Math.round((now - Date.parse(since)) / 1000)) : 0;
  }
  return { ...base, segmentationSeq: head.seq, segmentationAt: head.at, lagChanges, lagSeconds };
}
