import { Injectable } from '@nestjs/common';
import { identifierOf, membershipMatrix, type ProfileReference } from './eligibility-lookup';
import type { ProfileFacts } from './profile-facts';
import { ReadModelRepository, type Tx } from './read-model.repository';

/** A resolved profile: its current id (after merges) and what offers knows of it. */
export interface ResolvedProfile {
  profileId: string;
  facts: ProfileFacts | null;
}

/**
 * What the personalized offers API reads to decide eligibility locally: memberships by segment key
 * and profiles by id or identifier, from the read model (no call to segmentation or profiles).
 */
@Injectable()
export class EligibilityLookupService {
  constructor(private readonly repository: ReadModelRepository) {}

  /** For each profile, whether it is a member of each of `segmentKeys` (`tx`: inside a caller's transaction). */
  async memberships(profileIds: string[], segmentKeys: string[], tx?: Tx): Promise<Map<string, Record<string, boolean>>> {
    const ids = [...new Set(profileIds)];
    const keys = [...new Set(segmentKeys)];
    return membershipMatrix(ids, keys, await this.repository.memberSegments(ids, keys, tx));
  }

  /** Whether one profile is a member of each of `segmentKeys`. */
  async isMember(profileId: string, segmentKeys: string[], tx?: Tx): Promise<Record<string, boolean>> {
    return (await this.memberships([profileId], segmentKeys, tx)).get(profileId) ?? {};
  }

  /**
   * The profile a reference means now: an identifier through the identifiers profiles announced,
   * a merged-away id to its survivor; null when unknown or erased. A profile id offers has not
   * heard of yet is taken as it is (its memberships may simply not have arrived).
   */
  async resolveProfile(reference: ProfileReference): Promise<ResolvedProfile | null> {
    const identifier = identifierOf(reference);
    let profileId = identifier ? await this.repository.profileByIdentifier(identifier.kind, identifier.value) : (reference as { profileId: string }).profileId;
    // Merges can chain (a into b, b into c): gone_profiles points each at the latest survivor, but follow a few steps in case.
    for (let hops = 0; profileId && hops < 5; hops += 1) {
      const current = await this.repository.currentProfileId(profileId);
      if (!current.gone) break;
      profileId = current.mergedInto;
    }
    if (!profileId) return null;
    return { profileId, facts: await this.repository.factsOf(profileId) };
  }
}
