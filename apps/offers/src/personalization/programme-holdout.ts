import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { PROGRAMME_HOLDOUT_VARIANTS, type ExperimentChangedV1, type ServedExperimentV1 } from '@segmenta/contracts';
import { DATABASE, queryRows, type Database } from '@segmenta/persistence';
import type { OffersTx } from '../catalog/offers.repository';
import type * as tables from '../db/schema';
import { assignmentOf } from './experiment-offers';

/**
 * The programme holdout (issue 22), in process: a running experiment of kind `holdout` (from
 * experiments.changed) hashes every customer into `holdout` or `treated`. Held-out customers get
 * nothing personalized from offers: no offers, base earning only, no journeys. Both sides are
 * exposed where offers serves them, so the programme's lift covers them.
 */
export interface HoldoutVerdict {
  heldOut: boolean;
  exposure: ServedExperimentV1;
}

export type HoldoutCheck = (profileId: string) => HoldoutVerdict | null;

/** The running holdout among the experiments, if any. */
export function runningHoldout(experiments: readonly ExperimentChangedV1[]): ExperimentChangedV1 | undefined {
  return experiments.find((e) => e.kind === 'holdout' && e.status === 'running');
}

/** How the holdout treats a customer; null when there is no running holdout (or no known customer). */
export function programmeHoldout(experiments: readonly ExperimentChangedV1[], profileId: string | null): HoldoutVerdict | null {
  const holdout = runningHoldout(experiments);
  return holdout === undefined || profileId === null ? null : verdict(holdout, profileId);
}

function verdict(holdout: ExperimentChangedV1, profileId: string): HoldoutVerdict | null {
  const assigned = assignmentOf(holdout)(profileId);
  if (!assigned.inExperiment) return null;
  const variant = holdout.variants[assigned.variant];
  return { heldOut: variant.key === PROGRAMME_HOLDOUT_VARIANTS.holdout, exposure: { experimentId: holdout.experimentId, key: holdout.key, variant: variant.key } };
}

/** The holdout for consumers that work in batches (loyalty earning, journey enrollment): one read of the rules per batch. */
@Injectable()
export class ProgrammeHoldoutReader {
  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  /** Which of these customers are held out (empty without a running holdout). */
  async heldOut(profileIds: readonly string[], tx?: OffersTx): Promise<Set<string>> {
    if (profileIds.length === 0) return new Set();
    const rows = await queryRows<{ rules: ExperimentChangedV1 }>(
      tx ?? this.database.db,
      sql`select rules from offers.experiment_rules where status = 'running' and rules->>'kind' = 'holdout' limit 1`,
    );
    if (rows.length === 0) return new Set();
    return new Set(profileIds.filter((p) => verdict(rows[0].rules, p)?.heldOut === true));
  }
}
