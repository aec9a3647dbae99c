import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUDGET_ALERT_THRESHOLDS } from '@segmenta/contracts';
import { budgetUnits, limitWindowStart, percentOf, requestFingerprint, rewardValue } from './redemption-rules';

describe('rewardValue', () => {
  it.each([
    ['10 % of 129.99 EUR, rounded half up', { type: 'percent_off', percent: 10 }, { amount: 12_999, currency: 'EUR' }, { value: 1300, currency: 'EUR' }],
    ['12.5 % of 1.00, exactly half a cent up', { type: 'percent_off', percent: 12.5 }, { amount: 4, currency: 'EUR' }, { value: 1, currency: 'EUR' }],
    ['100 % never exceeds the order', { type: 'percent_off', percent: 100 }, { amount: 999, currency: 'USD' }, { value: 999, currency: 'USD' }],
    ['a percent without an order amount has no known value', { type: 'percent_off', percent: 10 }, undefined, { value: null, currency: null }],
    ['a fixed amount below the order', { type: 'amount_off', amount: 500, currency: 'EUR' }, { amount: 12_999, currency: 'EUR' }, { value: 500, currency: 'EUR' }],
    ['a fixed amount capped at the order', { type: 'amount_off', amount: 500, currency: 'EUR' }, { amount: 300, currency: 'EUR' }, { value: 300, currency: 'EUR' }],
    ['a fixed amount without an order', { type: 'amount_off', amount: 500, currency: 'EUR' }, undefined, { value: 500, currency: 'EUR' }],
    ['free shipping has no money value', { type: 'free_shipping' }, { amount: 1000, currency: 'EUR' }, { value: null, currency: null }],
    ['bonus points have no money value', { type: 'bonus_points', points: 100 }, undefined, { value: null, currency: null }],
  ] as const)('%s', (_name, reward, order, expected) => {
    expect(rewardValue(reward, order)).toEqual({ ok: true, value: expected });
  });

  it('refuses an order in another currency than a fixed amount (422 on orderAmount.currency)', () => {
    expect(rewardValue({ type: 'amount_off', amount: 500, currency: 'EUR' }, { amount: 1000, currency: 'USD' })).toMatchObject({
      ok: false,
      status: 422,
      details: [{ field: 'orderAmount.currency', problem: "must be EUR, the currency of the offer's reward" }],
    });
  });

  it('computes percents exactly where floating point would not (1.005 % of 1000 is 10.05 → 10)', () => {
    expect(percentOf(1000, 1.005)).toBe(10);
    expect(percentOf(1_000_000_000_000, 33.3333)).toBe(333_333_000_000);
    expect(percentOf(15, 10)).toBe(2);
  });
});

describe('budgetUnits', () => {
  const money = { type: 'amount', amount: 10_000, currency: 'EUR' } as const;
  it.each([
    ['no budget takes nothing', { type: 'none' }, { type: 'percent_off', percent: 10 }, { value: 100, currency: 'EUR' }, 0],
    ['a budget of redemptions takes one', { type: 'redemptions', limit: 50 }, { type: 'gift', description: 'Tote' }, { value: null, currency: null }, 1],
    ['a money budget takes the value', money, { type: 'percent_off', percent: 10 }, { value: 1300, currency: 'EUR' }, 1300],
  ] as const)('%s', (_name, budget, reward, value, expected) => {
    expect(budgetUnits(budget, reward, value)).toEqual({ ok: true, value: expected });
  });

  it('needs the order amount for a percent reward against a money budget (422)', () => {
    expect(budgetUnits(money, { type: 'percent_off', percent: 10 }, { value: null, currency: null })).toMatchObject({ ok: false, status: 422, details: [{ field: 'orderAmount' }] });
  });

  it('refuses a reward without money value against a money budget (409: the offer is misconfigured)', () => {
    expect(budgetUnits(money, { type: 'free_shipping' }, { value: null, currency: null })).toMatchObject({ ok: false, status: 409, details: [{ field: 'offerKey' }] });
  });

  it('refuses a value in another currency than the budget (422)', () => {
    expect(budgetUnits(money, { type: 'percent_off', percent: 10 }, { value: 100, currency: 'USD' })).toMatchObject({ ok: false, status: 422, details: [{ field: 'orderAmount.currency' }] });
  });
});

describe('limitWindowStart', () => {
  const now = new Date('2026-11-27T10:00:00.000Z');
  it('is null for a limit without a period (ever)', () => expect(limitWindowStart({ count: 1 }, now)).toBeNull());
  it('is a rolling period of whole days back from now', () => expect(limitWindowStart({ count: 2, periodDays: 30 }, now)).toEqual(new Date('2026-10-28T10:00:00.000Z')));
});

describe('requestFingerprint', () => {
  const base = { offerKey: 'cameras-10', profileId: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d', code: 'BF26-AAAA', orderAmount: { amount: 100, currency: 'EUR' } };
  it('is the same for the same fields in any key order, and differs when one differs', () => {
    expect(requestFingerprint({ orderAmount: { currency: 'EUR', amount: 100 }, code: 'BF26-AAAA', profileId: base.profileId, offerKey: 'cameras-10' })).toBe(requestFingerprint(base));
    expect(requestFingerprint({ ...base, orderAmount: { amount: 101, currency: 'EUR' } })).not.toBe(requestFingerprint(base));
    expect(requestFingerprint({ ...base, code: undefined })).not.toBe(requestFingerprint(base));
  });
});

describe('budget alert thresholds', () => {
  it('are the contract’s in the commit-time trigger that writes the alerts (migration 0008)', () => {
    const sql = readFileSync(join(__dirname, '../db/migrations/0008_budget_taken_at_commit.sql'), 'utf8');
    const inTrigger = /FOREACH threshold IN ARRAY ARRAY\[([\d, ]+)\]/.exec(sql)?.[1].split(',').map(Number);
    expect(inTrigger).toEqual([...BUDGET_ALERT_THRESHOLDS]);
  });
});
