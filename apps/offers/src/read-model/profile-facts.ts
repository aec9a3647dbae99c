import type { CustomerIdentifiersV1 } from '@segmenta/contracts';

/** What offers keeps of a profile's features (ARCHITECTURE §4 profile_features) for eligibility and ranking. */
export interface ProfileFacts {
  lifecycleStage: string | null;
  topCategory: string | null;
  clv: number | null;
  /** Average order value in minor units (the feature aov); null when unknown. */
  aov: number | null;
  churnRisk: number | null;
  pAlive: number | null;
  /** By model name: the feature `propensity_<name>`. */
  propensities: Record<string, number>;
}

export const EMPTY_FACTS: ProfileFacts = { lifecycleStage: null, topCategory: null, clv: null, aov: null, churnRisk: null, pAlive: null, propensities: {} };

const PROPENSITY_PREFIX = 'propensity_';

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);
const number = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * Applies a profiles.updated `features` object: complete when `full` (a new profile, a merge, a
 * republish), else only the changed keys, null meaning removed. Keys offers does not keep are ignored.
 */
export function applyFeatures(current: ProfileFacts | undefined, features: Record<string, unknown>, full: boolean): ProfileFacts {
  const base = full || !current ? EMPTY_FACTS : current;
  const next: ProfileFacts = { ...base, propensities: { ...base.propensities } };
  const has = (key: string) => Object.prototype.hasOwnProperty.call(features, key);
  if (has('lifecycle_stage')) next.lifecycleStage = text(features.lifecycle_stage);
  if (has('top_category')) next.topCategory = text(features.top_category);
  if (has('clv')) next.clv = number(features.clv);
  if (has('aov')) next.aov = number(features.aov);
  if (has('churn_risk')) next.churnRisk = number(features.churn_risk);
  if (has('p_alive')) next.pAlive = number(features.p_alive);
  for (const [key, value] of Object.entries(features)) {
    if (!key.startsWith(PROPENSITY_PREFIX) || key.length === PROPENSITY_PREFIX.length) continue;
    const score = number(value);
    const model = key.slice(PROPENSITY_PREFIX.length);
    if (score === null) delete next.propensities[model];
    else next.propensities[model] = score;
  }
  return next;
}

export type IdentifierKind = 'user_id' | 'anonymous_id' | 'email';

/** More than profiles sends in one update: a malformed message cannot flood the table. */
const MAX_ANONYMOUS_IDS = 100;

/** The identifiers of a profiles.updated as (kind, value) rows; e-mails compared lower-case. */
export function identifierRows(identifiers: CustomerIdentifiersV1 | undefined): Array<{ kind: IdentifierKind; value: string }> {
  if (!identifiers) return [];
  const rows: Array<{ kind: IdentifierKind; value: string }> = [];
  if (typeof identifiers.userId === 'string' && identifiers.userId) rows.push({ kind: 'user_id', value: identifiers.userId });
  if (Array.isArray(identifiers.anonymousIds))
    for (const anonymousId of identifiers.anonymousIds.slice(0, MAX_ANONYMOUS_IDS)) if (typeof anonymousId === 'string' && anonymousId) rows.push({ kind: 'anonymous_id', value: anonymousId });
  if (typeof identifiers.email === 'string' && identifiers.email) rows.push({ kind: 'email', value: identifiers.email.trim().toLowerCase() });
  return rows;
}
