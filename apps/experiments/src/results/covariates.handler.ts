import { Injectable } from '@nestjs/common';
import { ProfileErasedV1, ProfileMergedV1, ProfileUpdatedV1, SUBJECTS } from '@segmenta/contracts';
import { JetStreamBatchConsumer, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { ExperimentsRepository, keepProfileRevenue } from '../experiments/experiments.repository';

export const EXPERIMENTS_PROFILES_DURABLE = 'experiments-profiles';

/** Customers' revenue to date from PROFILES (the feature `revenue`): the covariate an exposure keeps for CUPED. */
@Injectable()
export class CovariatesHandler {
  constructor(private readonly repository: ExperimentsRepository) {}

  // The server here (2.9) takes one filter subject per consumer: profiles.> is filtered here.
  @JetStreamBatchConsumer({ stream: 'PROFILES', durable: EXPERIMENTS_PROFILES_DURABLE, maxBatch: 500 })
  async onProfiles(messages: BatchMessage[]): Promise<void> {
    const changes: Array<{ profileId: string; revenue: number | null }> = [];
    const gone: string[] = [];
    for (const { envelope } of messages) {
      if (envelope.type === SUBJECTS.profilesUpdated) {
        assertMessageData(ProfileUpdatedV1, envelope.data);
        const data = envelope.data as ProfileUpdatedV1;
        if (!Object.prototype.hasOwnProperty.call(data.features, 'revenue')) continue;
        const revenue = data.features.revenue;
        changes.push({ profileId: data.profileId, revenue: typeof revenue === 'number' && Number.isFinite(revenue) ? revenue : null });
      } else if (envelope.type === SUBJECTS.profilesMerged) {
        assertMessageData(ProfileMergedV1, envelope.data);
        gone.push((envelope.data as ProfileMergedV1).fromProfileId);
      } else if (envelope.type === SUBJECTS.profilesErased) {
        assertMessageData(ProfileErasedV1, envelope.data);
        const data = envelope.data as ProfileErasedV1;
        gone.push(data.profileId, ...data.mergedProfileIds);
      }
    }
    if (changes.length > 0 || gone.length > 0) await this.repository.transaction((tx) => keepProfileRevenue(tx, changes, gone));
  }
}
