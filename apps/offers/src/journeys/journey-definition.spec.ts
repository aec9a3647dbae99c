import { journeyOfferKeys, journeySegmentKeys, validateJourneyDefinition } from './journey-definition';

/** The classic example: three camera views in a week → one email with a unique 10 % code, a reminder if not redeemed. */
const cameraJourney = {
  trigger: { type: 'segment_entered', segment: 'camera-fans-this-week' },
  steps: [
    { id: 'email', type: 'send', channel: 'email', message: { template: 'camera-10' }, offer: 'cameras-10', next: 'wait-3d' },
    { id: 'wait-3d', type: 'wait', duration: 'P3D', next: 'redeemed' },
    { id: 'redeemed', type: 'branch', condition: { type: 'redeemed_offer', offer: 'cameras-10' }, then: null, else: 'morning' },
    { id: 'morning', type: 'wait', untilTimeOfDay: '09:00', next: 'ab' },
    {
      id: 'ab',
      type: 'split',
      branches: [
        { weight: 50, next: 'reminder' },
        { weight: 50, next: null },
      ],
    },
    { id: 'reminder', type: 'send', channel: 'app_push', message: { template: 'camera-reminder' } },
  ],
  exit: { leftSegment: true, convertedOn: 'Order Completed' },
  reentry: { policy: 'after', days: 30 },
  quietHours: { start: '21:00', end: '08:00' },
};

const problemsOf = (input: unknown) => {
  const checked = validateJourneyDefinition(input);
  return checked.ok ? [] : checked.problems;
};

describe('validateJourneyDefinition', () => {
  it('takes the camera example as it is, with defaults where it is silent', () => {
    const checked = validateJourneyDefinition(cameraJourney);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.value.steps[5]).toEqual({ id: 'reminder', type: 'send', channel: 'app_push', message: { template: 'camera-reminder' }, offer: null, next: null });
    expect(journeySegmentKeys(checked.value)).toEqual(['camera-fans-this-week']);
    expect(journeyOfferKeys(checked.value)).toEqual(['cameras-10']);
    const minimal = validateJourneyDefinition({ trigger: { type: 'loyalty', event: 'points_expiring' }, steps: [{ id: 'remind', type: 'send', channel: 'email', message: {} }] });
    expect(minimal).toEqual({
      ok: true,
      value: {
        trigger: { type: 'loyalty', event: 'points_expiring', tier: null },
        steps: [{ id: 'remind', type: 'send', channel: 'email', message: {}, offer: null, next: null }],
        exit: { leftSegment: false, convertedOn: null },
        reentry: { policy: 'never' },
        quietHours: null,
      },
    });
  });

  it('names the field of every problem', () => {
    expect(
      problemsOf({
        trigger: {
          type: 'event',
          event: 'Product Viewed',
          where: [
            { property: 'price', op: 'gt', value: 'high' },
            { property: 'category', op: 'exists', value: 1 },
          ],
        },
        steps: [
          { id: 'Wait', type: 'wait', duration: 'P3D', untilTimeOfDay: '09:00' },
          { id: 'send', type: 'send', channel: 'email', offer: 'Not A Key' },
          { id: 'split', type: 'split', branches: [{ weight: 0 }, { weight: 0 }] },
          { id: 'x', type: 'teleport' },
        ],
        exit: { leftSegment: true },
        reentry: { policy: 'sometimes' },
        quietHours: { start: '22:00', end: '22:00' },
        colour: 'blue',
      }).map((p) => p.field),
    ).toEqual([
      'trigger.where[0].value',
      'trigger.where[1].value',
      'steps[0].id',
      'steps[0]',
      'steps[1].offer',
      'steps[2].branches',
      'steps[3].type',
      'exit.leftSegment',
      'reentry',
      'quietHours',
      'colour',
    ]);
    expect(problemsOf({ steps: [] }).map((p) => p.field)).toEqual(['trigger', 'steps']);
    expect(problemsOf({ trigger: { type: 'loyalty', event: 'points_expiring', tier: 'gold' }, steps: [{ id: 'a', type: 'wait', duration: 'P1M' }] }).map((p) => p.field)).toEqual([
      'trigger.tier',
      'steps[0].duration',
    ]);
  });

  it('refuses targets that are no step, repeated ids, loops and steps nothing leads to', () => {
    const trigger = { type: 'segment_entered', segment: 'vip' };
    const send = (id: string, next: string | null = null) => ({ id, type: 'send', channel: 'email', message: {}, next });
    expect(problemsOf({ trigger, steps: [send('a', 'b')] })).toEqual([{ field: 'steps[0]', problem: 'leads to b, which is no step of this journey' }]);
    expect(problemsOf({ trigger, steps: [send('a', 'b'), send('b'), send('b')] })).toEqual([{ field: 'steps[2].id', problem: 'repeats the id of steps[1]' }]);
    expect(problemsOf({ trigger, steps: [send('a', 'b'), { id: 'b', type: 'wait', duration: 'P1D', next: 'a' }] })).toEqual([
      { field: 'steps[0]', problem: 'is part of a loop (a → b → a): a journey runs each step at most once per entry' },
    ]);
    expect(problemsOf({ trigger, steps: [send('a'), send('orphan')] })).toEqual([{ field: 'steps[1]', problem: 'cannot be reached from the first step (a)' }]);
  });
});
