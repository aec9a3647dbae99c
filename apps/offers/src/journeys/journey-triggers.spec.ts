import type { JourneyDefinition } from './journey-definition';
import { asksAboutEvent, endsEnrollment, triggers } from './journey-triggers';

describe('journey triggers', () => {
  const base: Omit<JourneyDefinition, 'trigger'> = { steps: [], exit: { leftSegment: true, convertedOn: 'Order Completed' }, reentry: { policy: 'never' }, quietHours: null };

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
