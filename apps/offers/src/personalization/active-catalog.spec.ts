import type { OfferRow } from '../catalog/offers.repository';
import { catalogSnapshot, earliestWindowStart } from './active-catalog';

const at = (time: string) => new Date(`2026-12-02T${time}:00Z`);

function offer(key: string, overrides: Partial<OfferRow> = {}): OfferRow {
  return {
    id: `00000000-0000-4000-8000-${String(key.length).padStart(12, '0')}`,
    key,
    placements: ['home_banner'],
    startsAt: at('00:00'),
    endsAt: null,
    budgetKind: 'none',
    budgetTotal: null,
    budgetUsed: 0,
    perCustomerLimit: null,
    perCustomerPeriodDays: null,
    coupons: { type: 'none' },
    eligibility: {},
    ...overrides,
  } as OfferRow;
}

describe('catalogSnapshot', () => {
  const morning = offer('morning', { startsAt: at('10:00'), endsAt: at('12:00') });
  const noon = offer('noon', { startsAt: at('11:00'), placements: ['checkout'] });
  const spent = offer('spent', { budgetKind: 'redemptions', budgetTotal: 5, budgetUsed: 5 });
  const left = offer('left', { budgetKind: 'amount', budgetTotal: 5000, budgetUsed: 4999 });

  it('serves the offers inside their window, with budget left, on the placement asked, as the clock passes window edges and goes back', () => {
    const snapshot = catalogSnapshot(1, [morning, noon, spent, left], {});
    const keys = (time: string, placement?: string) => snapshot.servable(at(time), placement).map((o) => o.key);
    expect(keys('09:00')).toEqual(['left']);
    expect(keys('10:00')).toEqual(['morning', 'left']);
    expect(keys('10:59')).toEqual(['morning', 'left']);
    expect(keys('11:00')).toEqual(['morning', 'noon', 'left']);
    expect(keys('11:00', 'checkout')).toEqual(['noon']);
    expect(keys('11:00', 'home_banner')).toEqual(['morning', 'left']);
    expect(keys('12:00')).toEqual(['noon', 'left']);
    expect(keys('12:00', 'home_banner')).toEqual(['left']);
    expect(keys('10:30')).toEqual(['morning', 'left']);
  });

  it('looks up limited and unique-code offers, and counts uses from the earliest limit window', () => {
    const weekly = offer('weekly', { perCustomerLimit: 1, perCustomerPeriodDays: 7 });
    const monthly = offer('monthly', { perCustomerLimit: 2, perCustomerPeriodDays: 30 });
    const once = offer('once-ever', { perCustomerLimit: 1 });
    const codes = offer('codes', { coupons: { type: 'unique' } as OfferRow['coupons'] });
    const snapshot = catalogSnapshot(3, [weekly, monthly, codes], {});
    expect(snapshot.lookups).toEqual({ limitedOfferIds: [weekly.id, monthly.id], uniqueOfferIds: [codes.id] });
    expect(earliestWindowStart([weekly, monthly], at('12:00'))).toEqual(new Date(at('12:00').getTime() - 30 * 86_400_000));
    expect(earliestWindowStart([weekly, once], at('12:00'))).toBeNull();
  });
});
