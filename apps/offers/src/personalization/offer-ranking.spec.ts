import type { OfferReward } from '../catalog/offer-rules';
import { expectedValue, isForEveryone, offerReasons, rankOffers, rewardMoneyValue, usedUp, type RewardValuation } from './offer-ranking';

describe('rewardMoneyValue', () => {
  const valuation: RewardValuation = { averageOrderValue: 8_000, defaultOrderValue: 5_000, pointValue: 2, freeShippingValue: 495 };
  const unknownAov = { ...valuation, averageOrderValue: null };
  it.each<[string, OfferReward, RewardValuation, number]>([
    ["10 % of the customer's average order", { type: 'percent_off', percent: 10 }, valuation, 800],
    ['10 % of the default order when the average is unknown', { type: 'percent_off', percent: 10 }, unknownAov, 500],
    ['a zero average counts as unknown', { type: 'percent_off', percent: 10 }, { ...valuation, averageOrderValue: 0 }, 500],
    ['12.5 % rounds half up', { type: 'percent_off', percent: 12.5 }, { ...valuation, averageOrderValue: 4 }, 1],
    ['a fixed amount is worth itself', { type: 'amount_off', amount: 1_500, currency: 'EUR' }, valuation, 1_500],
    ['free shipping is worth the configured shipping', { type: 'free_shipping' }, valuation, 495],
    ['bonus points at the configured point value', { type: 'bonus_points', points: 250 }, valuation, 500],
    ['double points: the extra points of an average order (80 units → 80 points)', { type: 'points_multiplier', multiplier: 2 }, valuation, 160],
    ['1.5× points on the default order', { type: 'points_multiplier', multiplier: 1.5 }, unknownAov, 50],
    ['a gift has no known value', { type: 'gift', description: 'Tote bag' }, valuation, 0],
  ])('%s', (_name, reward, given, expected) => {
    expect(rewardMoneyValue(reward, given)).toBe(expected);
  });
});

describe('expectedValue', () => {
  it.each([
    ['weighted by the redemption propensity', 1_000, 0.25, 250],
    ['the value itself without a score', 1_000, null, 1_000],
    ['the value itself without a score (undefined)', 1_000, undefined, 1_000],
    ['a score above 1 is clamped', 1_000, 1.7, 1_000],
    ['a negative score is clamped to 0', 1_000, -0.2, 0],
    ['NaN is no score', 1_000, Number.NaN, 1_000],
  ])('%s', (_name, value, propensity, expected) => {
    expect(expectedValue(value, propensity)).toBe(expected);
  });
});

describe('rankOffers', () => {
  it('orders by priority, then expected value, then key, without changing its input', () => {
    const offers = [
      { key: 'b-low', priority: 0, expectedValue: 900 },
      { key: 'a-high', priority: 10, expectedValue: 1 },
      { key: 'c-low', priority: 0, expectedValue: 1_200 },
      { key: 'a-low', priority: 0, expectedValue: 900 },
      { key: 'neg', priority: -5, expectedValue: 99_999 },
    ];
    const before = structuredClone(offers);
    expect(rankOffers(offers).map((o) => o.key)).toEqual(['a-high', 'c-low', 'a-low', 'b-low', 'neg']);
    expect(offers).toEqual(before);
  });
});

describe('usedUp', () => {
  const now = new Date('2026-12-01T12:00:00.000Z');
  const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
  it.each([
    ['no limit is never used up', null, [daysAgo(1), daysAgo(2)], false],
    ['once ever, not used', { count: 1 }, [], false],
    ['once ever, used long ago', { count: 1 }, [daysAgo(400)], true],
    ['twice in 30 days, one use inside the window', { count: 2, periodDays: 30 }, [daysAgo(3), daysAgo(31)], false],
    ['twice in 30 days, two uses inside', { count: 2, periodDays: 30 }, [daysAgo(3), daysAgo(29)], true],
    ['a use exactly at the window start counts', { count: 1, periodDays: 30 }, [daysAgo(30)], true],
  ])('%s', (_name, limit, redeemedAt, expected) => {
    expect(usedUp(limit, redeemedAt, now)).toBe(expected);
  });
});

describe('offerReasons', () => {
  it.each([
    ['an empty eligibility is for everyone', {}, {}, ['everyone']],
    ['the anyOf segments the customer is in', { segments: { anyOf: ['camera-intent', 'lens-intent'] } }, { 'camera-intent': true, 'lens-intent': false }, ['member of camera-intent']],
    ['every allOf segment', { segments: { allOf: ['vip', 'newsletter'] } }, { vip: true, newsletter: true }, ['member of vip', 'member of newsletter']],
    ['an exclusion the customer passes', { segments: { noneOf: ['fraud-watch'] } }, {}, ['not a member of fraud-watch']],
    ['the lifecycle stage, in words', { lifecycleStages: ['at_risk', 'lapsed'] as const }, { 'lifecycle-at-risk': true }, ['lifecycle stage at risk']],
    [
      'segments and stage together, without repeats',
      { segments: { anyOf: ['vip'], allOf: ['vip'] }, lifecycleStages: ['loyal'] as const },
      { vip: true, 'lifecycle-loyal': true },
      ['member of vip', 'lifecycle stage loyal'],
    ],
  ])('%s', (_name, eligibility, memberOf, expected) => {
    expect(offerReasons(eligibility as never, memberOf)).toEqual(expected);
  });

  it("names the customer's loyalty tier by its name, and not the tiers they do not hold", () => {
    expect(
      offerReasons({ segments: { anyOf: ['camera-fans'] }, tiers: ['gold', 'platinum'] }, { 'camera-fans': true, 'tier:gold': true }, { 'camera-fans': 'Camera fans this week' }, { gold: 'Gold' }),
    ).toEqual(['member of Camera fans this week', 'tier Gold']);
  });

  it('names a segment by its name where one is known, else by its key', () => {
    expect(offerReasons({ segments: { anyOf: ['camera-intent', 'vip'] } }, { 'camera-intent': true, vip: true }, { vip: 'VIP customers' })).toEqual([
      'member of camera-intent',
      'member of VIP customers',
    ]);
  });
});

describe('isForEveryone', () => {
  it.each([
    [{}, true],
    [{ lifecycleStages: [] }, true],
    [{ segments: { noneOf: ['fraud-watch'] } }, false],
    [{ tiers: ['gold'] }, false],
    [{ lifecycleStages: ['new'] }, false],
  ])('%j → %s', (eligibility, expected) => {
    expect(isForEveryone(eligibility as never)).toBe(expected);
  });
});
