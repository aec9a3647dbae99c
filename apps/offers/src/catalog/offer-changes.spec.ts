import { diffFields } from './offer-changes';

describe('diffFields', () => {
  it('lists only the fields that changed, comparing objects by value whatever their key order', () => {
    const before = { name: 'A', reward: { type: 'percent_off', percent: 10 }, priority: 1, updatedAt: 'x' };
    const after = { name: 'A', reward: { percent: 10, type: 'percent_off' }, priority: 2, updatedAt: 'y' };
    expect(diffFields(before, after, ['updatedAt'])).toEqual({ priority: { from: 1, to: 2 } });
  });

  it('describes a creation as every field from null and a deletion as every field to null', () => {
    expect(diffFields(null, { name: 'A', categories: null })).toEqual({ name: { from: null, to: 'A' } });
    expect(diffFields({ name: 'A', placements: ['checkout'] }, null)).toEqual({ name: { from: 'A', to: null }, placements: { from: ['checkout'], to: null } });
  });
});
