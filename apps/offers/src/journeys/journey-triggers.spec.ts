import type { JourneyDefinition } from './journey-definition';
import { asksAboutEvent, endsEnrollment, propertyMatches, triggers } from './journey-triggers';

describe('journey triggers', () => {
  const base: Omit<JourneyDefinition, 'trigger'> = { steps: [], exit: { leftSegment: true, convertedOn: 'Order Completed' }, reentry: { policy: 'never' }, quietHours: null };

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

  it('starts journeys on their trigger only', () => {
    const entered: JourneyDefinition = { ...base, trigger: { type: 'segment_entered', segment: 'camera-fans' } };
    expect(triggers(entered, { kind: 'segment', change: 'entered', segment: 'camera-fans' })).toBe(true);
    expect(triggers(entered, { kind: 'segment', change: 'exited', segment: 'camera-fans' })).toBe(false);
    expect(triggers(entered, { kind: 'segment', change: 'entered', segment: 'other' })).toBe(false);
    const event: JourneyDefinition = { ...base, trigger: { type: 'event', event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }] } };
    expect(triggers(event, { kind: 'event', event: 'Product Viewed', properties: { category: 'cameras' } })).toBe(true);
    expect(triggers(event, { kind: 'event', event: 'Product Viewed', properties: { category: 'lenses' } })).toBe(false);
    const gold: JourneyDefinition = { ...base, trigger: { type: 'loyalty', event: 'tier_changed', tier: 'gold' } };
    expect(triggers(gold, { kind: 'loyalty', event: 'tier_changed', tier: 'gold' })).toBe(true);
    expect(triggers(gold, { kind: 'loyalty', event: 'tier_changed', tier: 'silver' })).toBe(false);
    expect(triggers({ ...gold, trigger: { type: 'loyalty', event: 'points_expiring', tier: null } }, { kind: 'loyalty', event: 'points_expiring', tier: null })).toBe(true);
  });

  it('ends enrollments on leaving the trigger’s segment and on the conversion event', () => {
    const d: JourneyDefinition = { ...base, trigger: { type: 'segment_entered', segment: 'camera-fans' } };
    expect(endsEnrollment(d, { kind: 'segment', change: 'exited', segment: 'camera-fans' })).toEqual({ status: 'exited', reason: 'left segment camera-fans' });
    expect(endsEnrollment(d, { kind: 'segment', change: 'exited', segment: 'other' })).toBeNull();
    expect(endsEnrollment(d, { kind: 'event', event: 'Order Completed', properties: {} })).toEqual({ status: 'converted', reason: 'converted: Order Completed' });
    expect(endsEnrollment({ ...d, exit: { leftSegment: false, convertedOn: null } }, { kind: 'segment', change: 'exited', segment: 'camera-fans' })).toBeNull();
    expect(asksAboutEvent({ ...d, steps: [{ id: 'b', type: 'branch', condition: { type: 'did_event', event: 'Product Viewed' }, then: null, else: null }] }, 'Product Viewed')).toBe(true);
    expect(asksAboutEvent(d, 'Product Viewed')).toBe(false);
  });
});
