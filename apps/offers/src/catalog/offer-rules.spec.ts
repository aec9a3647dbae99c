import {
  eligibilityVerdict,
  referencedSegmentKeys,
  validateBudget,
  validateCategories,
  validateCoupons,
  validateEligibility,
  validatePerCustomerLimit,
  validatePlacements,
  validateReward,
} from './offer-rules';

const problems = (result: { ok: boolean; problems?: Array<{ field: string; problem: string }> }) => (result.ok ? [] : (result.problems ?? []).map((p) => p.field));

describe('validateReward', () => {
  it.each([
    [{ type: 'percent_off', percent: 10 }],
    [{ type: 'percent_off', percent: 100 }],
    [{ type: 'percent_off', percent: 0.5 }],
    [{ type: 'amount_off', amount: 500, currency: 'EUR' }],
    [{ type: 'free_shipping' }],
    [{ type: 'bonus_points', points: 250 }],
    [{ type: 'points_multiplier', multiplier: 2 }],
    [{ type: 'points_multiplier', multiplier: 10 }],
    [{ type: 'gift', description: 'A tote bag' }],
  ])('accepts %j', (reward) => {
    expect(validateReward(reward)).toEqual({ ok: true, value: reward });
  });

  it.each<[unknown, string[]]>([
    [null, ['reward']],
    [{}, ['reward.type']],
    [{ type: 'cashback' }, ['reward.type']],
    [{ type: 'percent_off', percent: 0 }, ['reward.percent']],
    [{ type: 'percent_off', percent: 100.01 }, ['reward.percent']],
    [{ type: 'percent_off', percent: '10' }, ['reward.percent']],
    [{ type: 'percent_off', precent: 10 }, ['reward.percent', 'reward.precent']],
    [{ type: 'amount_off', amount: 4.99, currency: 'EUR' }, ['reward.amount']],
    [{ type: 'amount_off', amount: 0, currency: 'EUR' }, ['reward.amount']],
    [{ type: 'amount_off', amount: 500, currency: 'eur' }, ['reward.currency']],
    [{ type: 'amount_off', amount: 500, currency: 'XYZ' }, ['reward.currency']],
    [{ type: 'amount_off', amount: 500 }, ['reward.currency']],
    [{ type: 'free_shipping', percent: 5 }, ['reward.percent']],
    [{ type: 'bonus_points', points: -1 }, ['reward.points']],
    [{ type: 'bonus_points', points: 1.5 }, ['reward.points']],
    [{ type: 'points_multiplier', multiplier: 1 }, ['reward.multiplier']],
    [{ type: 'points_multiplier', multiplier: 10.5 }, ['reward.multiplier']],
    [{ type: 'gift', description: '  ' }, ['reward.description']],
  ])('refuses %j naming %j', (reward, fields) => {
    expect(problems(validateReward(reward))).toEqual(fields);
  });
});

describe('validateBudget, validatePerCustomerLimit, validateCoupons', () => {
  it('reads no budget, a number of redemptions or an amount of money', () => {
    expect(validateBudget(undefined)).toEqual({ ok: true, value: { type: 'none' } });
    expect(validateBudget({ type: 'redemptions', limit: 500 })).toEqual({ ok: true, value: { type: 'redemptions', limit: 500 } });
    expect(validateBudget({ type: 'amount', amount: 1_000_000, currency: 'USD' })).toEqual({ ok: true, value: { type: 'amount', amount: 1_000_000, currency: 'USD' } });
    expect(problems(validateBudget({ type: 'amount', amount: 10.5 }))).toEqual(['budget.amount', 'budget.currency']);
    expect(problems(validateBudget({ type: 'redemptions', limit: 0 }))).toEqual(['budget.limit']);
    expect(problems(validateBudget({ type: 'coins' }))).toEqual(['budget.type']);
  });

  it('reads once, once per period, or no limit', () => {
    expect(validatePerCustomerLimit({ count: 1 })).toEqual({ ok: true, value: { count: 1 } });
    expect(validatePerCustomerLimit({ count: 1, periodDays: 30 })).toEqual({ ok: true, value: { count: 1, periodDays: 30 } });
    expect(validatePerCustomerLimit(null)).toEqual({ ok: true, value: null });
    expect(problems(validatePerCustomerLimit({ count: 0, periodDays: 0.5 }))).toEqual(['perCustomerLimit.count', 'perCustomerLimit.periodDays']);
  });

  it('reads no coupon, a shared code (upper-cased) or a unique pool', () => {
    expect(validateCoupons(undefined)).toEqual({ ok: true, value: { type: 'none' } });
    expect(validateCoupons({ type: 'shared', code: 'summer26' })).toEqual({ ok: true, value: { type: 'shared', code: 'SUMMER26' } });
    expect(validateCoupons({ type: 'unique' })).toEqual({ ok: true, value: { type: 'unique' } });
    expect(problems(validateCoupons({ type: 'shared' }))).toEqual(['coupons.code']);
    expect(problems(validateCoupons({ type: 'shared', code: 'a b' }))).toEqual(['coupons.code']);
    expect(problems(validateCoupons({ type: 'unique', code: 'X' }))).toEqual(['coupons.code']);
  });
});

describe('validateEligibility and referencedSegmentKeys', () => {
  it('treats an empty eligibility as everyone', () => {
    expect(validateEligibility({})).toEqual({ ok: true, value: {} });
    expect(validateEligibility(undefined)).toEqual({ ok: true, value: {} });
    expect(referencedSegmentKeys({})).toEqual([]);
  });

  it('names every segment key it refers to, lifecycle stages as their built-in segments', () => {
    const checked = validateEligibility({ segments: { anyOf: ['camera-intent', 'rfm-champions'], noneOf: ['fraud_risk'] }, tiers: ['gold'], lifecycleStages: ['at_risk', 'loyal'] });
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(referencedSegmentKeys(checked.value)).toEqual(['camera-intent', 'fraud_risk', 'lifecycle-at-risk', 'lifecycle-loyal', 'rfm-champions']);
  });

  it('refuses unknown parts, malformed keys, unknown stages, repeats and contradictions', () => {
    expect(problems(validateEligibility({ segment: { anyOf: ['a'] } }))).toEqual(['eligibility.segment']);
    expect(problems(validateEligibility({ segments: { anyOf: ['Camera Intent'] } }))).toEqual(['eligibility.segments.anyOf[0]']);
    expect(problems(validateEligibility({ segments: { oneOf: ['a'] } }))).toEqual(['eligibility.segments.oneOf']);
    expect(problems(validateEligibility({ lifecycleStages: ['new', 'sleeping'] }))).toEqual(['eligibility.lifecycleStages[1]']);
    expect(problems(validateEligibility({ tiers: ['gold', 'gold'] }))).toEqual(['eligibility.tiers[1]']);
    expect(problems(validateEligibility({ segments: { allOf: ['vip'], noneOf: ['vip'] } }))).toEqual(['eligibility.segments.noneOf']);
    expect(problems(validateEligibility([]))).toEqual(['eligibility']);
  });
});

describe('validatePlacements and validateCategories', () => {
  const allowed = ['home_banner', 'checkout'];

  it('accepts configured placements only, naming the allowed list', () => {
    expect(validatePlacements(['checkout'], allowed)).toEqual({ ok: true, value: ['checkout'] });
    expect(validatePlacements(['billboard'], allowed)).toEqual({ ok: false, problems: [{ field: 'placements[0]', problem: 'is not a known placement (allowed: home_banner, checkout)' }] });
    expect(problems(validatePlacements([], allowed))).toEqual(['placements']);
  });

  it('reads categories as a restriction; absent means every category', () => {
    expect(validateCategories(undefined)).toEqual({ ok: true, value: null });
    expect(validateCategories(['cameras'])).toEqual({ ok: true, value: ['cameras'] });
    expect(problems(validateCategories([]))).toEqual(['categories']);
    expect(problems(validateCategories(['cameras', '']))).toEqual(['categories[1]']);
  });
});

describe('eligibilityVerdict', () => {
  const member = (...keys: string[]) => Object.fromEntries(keys.map((k) => [k, true]));
  it.each([
    [{}, member(), { eligible: true }],
    [{ segments: { anyOf: ['a', 'b'] } }, member('b'), { eligible: true }],
    [{ segments: { anyOf: ['a', 'b'] } }, member('c'), { eligible: false, problem: 'not a member of any of a, b' }],
    [{ segments: { allOf: ['a', 'b'] } }, member('a'), { eligible: false, problem: 'not a member of b' }],
    [{ segments: { allOf: ['a', 'b'] } }, member('a', 'b'), { eligible: true }],
    [{ segments: { noneOf: ['x'] } }, member('x'), { eligible: false, problem: 'a member of x, which the offer excludes' }],
    [{ segments: { noneOf: ['x'] } }, { x: false }, { eligible: true }],
    [{ lifecycleStages: ['at_risk' as const] }, member('lifecycle-at-risk'), { eligible: true }],
    [{ lifecycleStages: ['at_risk' as const, 'lapsed' as const] }, member('lifecycle-new'), { eligible: false, problem: 'not in lifecycle stage at_risk or lapsed' }],
    [{ tiers: ['gold', 'platinum'] }, member(), { eligible: false, problem: 'not in loyalty tier gold or platinum' }],
    [{ tiers: ['gold', 'platinum'] }, member('tier:gold'), { eligible: true }],
  ])('%j with memberships %j: %j', (eligibility, memberOf, verdict) => {
    expect(eligibilityVerdict(eligibility, memberOf)).toEqual(verdict);
  });
});
