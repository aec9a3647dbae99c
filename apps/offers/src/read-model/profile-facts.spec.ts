import { EMPTY_FACTS, applyFeatures, identifierRows, type ProfileFacts } from './profile-facts';

const known: ProfileFacts = { lifecycleStage: 'active', topCategory: 'cameras', clv: 12_500, aov: 4_200, churnRisk: 0.2, pAlive: 0.8, propensities: { churn: 0.3 } };

describe('applyFeatures', () => {
  it('reads the features offers keeps from a full update and ignores the others', () => {
    expect(
      applyFeatures(undefined, { lifecycle_stage: 'loyal', top_category: 'lenses', clv: 40_000, aov: 8_000, churn_risk: 0.05, p_alive: 0.95, propensity_upgrade: 0.7, orders: 9, revenue: 1000 }, true),
    ).toEqual({ lifecycleStage: 'loyal', topCategory: 'lenses', clv: 40_000, aov: 8_000, churnRisk: 0.05, pAlive: 0.95, propensities: { upgrade: 0.7 } });
  });

  it('changes only the keys a partial update names; null removes one', () => {
    expect(applyFeatures(known, { lifecycle_stage: 'at_risk', top_category: null, propensity_churn: null }, false)).toEqual({
      ...known,
      lifecycleStage: 'at_risk',
      topCategory: null,
      propensities: {},
    });
  });

  it('replaces everything on a full update (after a merge), so keys it lacks are gone', () => {
    expect(applyFeatures(known, { lifecycle_stage: 'new' }, true)).toEqual({ ...EMPTY_FACTS, lifecycleStage: 'new' });
  });

  it('keeps no value of the wrong type', () => {
    expect(applyFeatures(undefined, { clv: 'a lot', lifecycle_stage: 3, churn_risk: Number.NaN }, true)).toEqual(EMPTY_FACTS);
  });

  it('does not change the facts it was given', () => {
    const before = structuredClone(known);
    applyFeatures(known, { propensity_churn: 0.9 }, false);
    expect(known).toEqual(before);
  });
});

describe('identifierRows', () => {
  it('maps user id, anonymous ids and a lower-cased e-mail', () => {
    expect(identifierRows({ userId: 'u-1', anonymousIds: ['a-1', 'a-2'], email: ' Ann@Example.com ' })).toEqual([
      { kind: 'user_id', value: 'u-1' },
      { kind: 'anonymous_id', value: 'a-1' },
      { kind: 'anonymous_id', value: 'a-2' },
      { kind: 'email', value: 'ann@example.com' },
    ]);
  });

  it('has nothing for absent identifiers', () => {
    expect(identifierRows(undefined)).toEqual([]);
    expect(identifierRows({})).toEqual([]);
  });
});
