import { lifecycleStage, typicalOrderGapDays } from './lifecycle';

const now = new Date('2026-06-30T00:00:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);

describe('lifecycle stage', () => {
  it('follows the ARCHITECTURE §6 definitions without P(alive)', () => {
    expect(lifecycleStage({ orders: 0, firstOrderAt: null, lastOrderAt: null, lastSeen: daysAgo(1) }, now)).toBe('prospect');
    expect(lifecycleStage({ orders: 1, firstOrderAt: daysAgo(10), lastOrderAt: daysAgo(10), lastSeen: daysAgo(2) }, now)).toBe('new');
    expect(lifecycleStage({ orders: 1, firstOrderAt: daysAgo(50), lastOrderAt: daysAgo(50), lastSeen: daysAgo(50) }, now)).toBe('active');
    // One order 130 days ago: beyond twice the default 60-day gap.
    expect(lifecycleStage({ orders: 1, firstOrderAt: daysAgo(130), lastOrderAt: daysAgo(130), lastSeen: daysAgo(5) }, now)).toBe('at_risk');
    // Orders every 10 days, last one 15 days ago: loyal; 25 days ago: beyond 2 gaps.
    expect(lifecycleStage({ orders: 5, firstOrderAt: daysAgo(55), lastOrderAt: daysAgo(15), lastSeen: daysAgo(15) }, now)).toBe('loyal');
    expect(lifecycleStage({ orders: 5, firstOrderAt: daysAgo(65), lastOrderAt: daysAgo(25), lastSeen: daysAgo(3) }, now)).toBe('at_risk');
    expect(lifecycleStage({ orders: 8, firstOrderAt: daysAgo(400), lastOrderAt: daysAgo(200), lastSeen: daysAgo(181) }, now)).toBe('lapsed');
  });

  it('uses P(alive) when it is known', () => {
    const repeat = { orders: 4, firstOrderAt: daysAgo(90), lastOrderAt: daysAgo(10), lastSeen: daysAgo(1) };
    expect(lifecycleStage({ ...repeat, pAlive: 0.9 }, now)).toBe('loyal');
    expect(lifecycleStage({ ...repeat, pAlive: 0.6 }, now)).toBe('active');
    expect(lifecycleStage({ ...repeat, pAlive: 0.3 }, now)).toBe('at_risk');
    expect(lifecycleStage({ ...repeat, pAlive: 0.1 }, now)).toBe('lapsed');
  });

  it('measures the typical gap between orders', () => {
    expect(typicalOrderGapDays({ orders: 3, firstOrderAt: daysAgo(40), lastOrderAt: daysAgo(20) })).toBe(10);
    expect(typicalOrderGapDays({ orders: 1, firstOrderAt: daysAgo(4), lastOrderAt: daysAgo(4) })).toBeNull();
  });
});
