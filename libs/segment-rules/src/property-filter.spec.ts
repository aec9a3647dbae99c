import { propertyMatches } from './property-filter';

describe('propertyMatches', () => {
  it('matches property filters: equality without case, numbers, contains, exists, dotted paths', () => {
    const props = { category: 'Cameras', price: 499, tags: ['sale', 'new'], product: { brand: 'Fuji' }, 'a.b': 1 };
    expect(propertyMatches(props, { property: 'category', op: 'eq', value: 'cameras' })).toBe(true);
    expect(propertyMatches(props, { property: 'category', op: 'neq', value: 'lenses' })).toBe(true);
    expect(propertyMatches(props, { property: 'price', op: 'gte', value: 499 })).toBe(true);
    expect(propertyMatches(props, { property: 'price', op: 'gt', value: 499 })).toBe(false);
    expect(propertyMatches({ price: '499' }, { property: 'price', op: 'lt', value: 1000 })).toBe(false);
    expect(propertyMatches(props, { property: 'tags', op: 'contains', value: 'SALE' })).toBe(true);
    expect(propertyMatches(props, { property: 'category', op: 'contains', value: 'came' })).toBe(true);
    expect(propertyMatches(props, { property: 'product.brand', op: 'eq', value: 'fuji' })).toBe(true);
    expect(propertyMatches(props, { property: 'a.b', op: 'exists' })).toBe(true);
    expect(propertyMatches(props, { property: 'product.model', op: 'exists' })).toBe(false);
    expect(propertyMatches({ toString: 1 }, { property: 'constructor', op: 'exists' })).toBe(false);
  });
});
