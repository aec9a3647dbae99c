import { randomUUID } from 'node:crypto';
import { identifierKey, type Identifier } from './identifiers';
import { kindLimit, type IdentityRules } from './identity-rules';

/** What the guards need to know about a live profile. */
export interface ProfileIdentityStats {
  /** Identifiers held, per kind. */
  counts: Record<string, number>;
  total: number;
  mergeCount: number;
}

export interface MergeDecision {
  from: string;
  into: string;
  /** `kind:value` both profiles were found through. */
  identifier: string;
  eventId: string;
  reason: string;
}

export interface RefusedMerge extends MergeDecision {
  detail: string;
}

/**
 * Identity resolution for a batch of calls, in memory, in stream order. It starts from the graph
 * as stored (`known`: identifier → live profile, `stats` of those profiles) and records what the
 * batch changes: new profiles, new identifiers, merges done and merges refused. The caller holds
 * locks on every identifier involved while it writes the outcome in one transaction.
 *
 * Rules: the profile found through the highest-priority identifier is the one the call belongs to
 * and survives any merge. Another profile found through another identifier is merged into it
 * unless that would break a limit (identifiers per kind, e.g. one user_id; identifiers in total;
 * merges per profile). Identifiers on the block list are ignored. A new identifier is attached
 * unless it would break a limit.
 */
export class IdentityGraphBatch {
  readonly newProfiles: string[] = [];
  readonly merges: MergeDecision[] = [];
  readonly refused: RefusedMerge[] = [];
  private readonly attached = new Map<string, Identifier & { profileId: string }>();
  private readonly redirects = new Map<string, string>();

  constructor(
    private readonly rules: IdentityRules,
    private readonly known: Map<string, string>,
    private readonly stats: Map<string, ProfileIdentityStats>,
    private readonly isBlocked: (identifier: Identifier) => boolean,
    private readonly newProfileId: () => string = randomUUID,
  ) {}

  /** The live profile an id stands for after this batch's merges. */
  live(profileId: string): string {
    let current = profileId;
    for (let next = this.redirects.get(current); next; next = this.redirects.get(current)) current = next;
    return current;
  }

  /** Resolves one call to its profile (null when every identifier is blocked). */
  resolve(eventId: string, reason: string, identifiers: Identifier[]): string | null {
    const usable = identifiers.filter((identifier) => !this.isBlocked(identifier));
    if (usable.length === 0) return null;
    let primary: string | undefined;
    for (const identifier of usable) {
      const owner = this.known.get(identifierKey(identifier));
      if (owner) {
        primary = this.live(owner);
        break;
      }
      // A new identifier that outranks the match but cannot join it (a second user id): it
      // starts its own profile rather than being dropped.
      if (!identifier.lookupOnly && this.firstMatch(usable) && !this.canAttach(this.firstMatch(usable)!, identifier.kind)) break;
    }
    if (!primary) {
      primary = this.newProfileId();
      this.newProfiles.push(primary);
      this.stats.set(primary, { counts: {}, total: 0, mergeCount: 0 });
    }
    for (const identifier of usable) {
      const key = identifierKey(identifier);
      const owner = this.known.get(key);
      if (owner) {
        const other = this.live(owner);
        if (other === primary) continue;
        const decision = { from: other, into: primary, identifier: key, eventId, reason };
        const refusal = this.refusal(primary, other);
        if (refusal) this.refuse({ ...decision, detail: refusal });
        else this.merge(decision);
      } else if (!identifier.lookupOnly && this.canAttach(primary, identifier.kind)) {
        const stats = this.stats.get(primary)!;
        stats.counts[identifier.kind] = (stats.counts[identifier.kind] ?? 0) + 1;
        stats.total += 1;
        this.known.set(key, primary);
        this.attached.set(key, { kind: identifier.kind, value: identifier.value, profileId: primary });
      }
    }
    return primary;
  }

  /** Identifiers to insert, pointing at their live profiles. */
  newIdentities(): Array<{ kind: string; value: string; profileId: string }> {
    return [...this.attached.values()].map(({ kind, value, profileId }) => ({ kind, value, profileId: this.live(profileId) }));
  }

  private firstMatch(identifiers: Identifier[]): string | undefined {
    for (const identifier of identifiers) {
      const owner = this.known.get(identifierKey(identifier));
      if (owner) return this.live(owner);
    }
    return undefined;
  }

  private canAttach(profileId: string, kind: string): boolean {
    const stats = this.stats.get(profileId)!;
    return (stats.counts[kind] ?? 0) + 1 <= kindLimit(this.rules, kind) && stats.total + 1 <= this.rules.maxIdentifiers;
  }

  /** Why merging `from` into `into` would break a guard, or null when it may go ahead. */
  private refusal(into: string, from: string): string | null {
    const a = this.stats.get(into);
    const b = this.stats.get(from);
    if (!a || !b) return 'profile state unavailable';
    if (a.mergeCount + b.mergeCount + 1 > this.rules.maxMerges) {
      return `merge limit: at most ${this.rules.maxMerges} merges per profile (the two hold ${a.mergeCount} and ${b.mergeCount})`;
    }
    for (const kind of new Set([...Object.keys(a.counts), ...Object.keys(b.counts)])) {
      const limit = kindLimit(this.rules, kind);
      const together = (a.counts[kind] ?? 0) + (b.counts[kind] ?? 0);
      if (together > limit) return `${kind} limit: at most ${limit} per profile (the two hold ${a.counts[kind] ?? 0} and ${b.counts[kind] ?? 0})`;
    }
    if (a.total + b.total > this.rules.maxIdentifiers) {
      return `identifier limit: at most ${this.rules.maxIdentifiers} per profile (the two hold ${a.total} and ${b.total})`;
    }
    return null;
  }

  private merge(decision: MergeDecision): void {
    const into = this.stats.get(decision.into)!;
    const from = this.stats.get(decision.from)!;
    for (const [kind, count] of Object.entries(from.counts)) into.counts[kind] = (into.counts[kind] ?? 0) + count;
    into.total += from.total;
    into.mergeCount += from.mergeCount + 1;
    this.stats.delete(decision.from);
    this.redirects.set(decision.from, decision.into);
    for (const [key, owner] of this.known) if (owner === decision.from) this.known.set(key, decision.into);
    this.merges.push(decision);
  }

  private refuse(refusal: RefusedMerge): void {
    // Only calls that assert an identity leave a record; the same refusal once per batch.
    if (refusal.reason !== 'identify' && refusal.reason !== 'alias') return;
    if (this.refused.some((r) => r.from === refusal.from && r.into === refusal.into && r.identifier === refusal.identifier)) return;
    this.refused.push(refusal);
  }
}
