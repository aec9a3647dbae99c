import { validateExperimentDefinition } from './experiment-definition';

describe('validateExperimentDefinition', () => {
  const base = {
    targeting: { segments: ['camera-intent'], trafficShare: 0.5, placement: 'checkout' },
    variants: [
      { key: 'control', weight: 0.5, offers: ['free-shipping'] },
      { key: 'ten-off', weight: 0.5, offers: ['cameras-10'] },
    ],
  };
  const problems = (input: unknown) => {
    const checked = validateExperimentDefinition(input, 'exp');
    return checked.ok ? [] : checked.problems;
  };

  it('fills the defaults: the key as seed, everyone at full traffic, a name per variant, 14-day metrics', () => {
    const checked = validateExperimentDefinition(
      {
        variants: [
          { key: 'a', weight: 0.5 },
          { key: 'b', weight: 0.5, payload: { x: 1 } },
        ],
        metrics: [{ key: 'rev', type: 'revenue' }],
      },
      'my-exp',
    );
    expect(checked).toEqual({
      ok: true,
      value: {
        hypothesis: '',
        seed: 'my-exp',
        targeting: { segments: [], trafficShare: 1, placement: null, namespace: null },
        variants: [
          { key: 'a', name: 'a', weight: 0.5, offers: [], journeyBranch: null, payload: null },
          { key: 'b', name: 'b', weight: 0.5, offers: [], journeyBranch: null, payload: { x: 1 } },
        ],
        metrics: [{ key: 'rev', type: 'revenue', event: null, where: [], days: 14, guardrail: false, goodDirection: 'up' }],
      },
    });
  });

  it('names every wrong field at once', () => {
    expect(
      problems({
        ...base,
        targeting: { segments: ['Camera Intent'], trafficShare: 0, namespace: { id: 'n', start: 0.6, end: 0.2 } },
        variants: [{ key: 'a', weight: 0.6 }, { key: 'a', weight: 0.6, offers: ['x'] }, 'nope'],
        metrics: [
          { key: 'm', type: 'conversion', days: 0 },
          { key: 'm', type: 'revenue', event: 'Order Completed' },
        ],
        colour: 'blue',
      }),
    ).toEqual([
      { field: 'colour', problem: expect.stringContaining('is not a field here') },
      { field: 'targeting.segments[0]', problem: expect.any(String) },
      { field: 'targeting.trafficShare', problem: 'must be a share above 0 and at most 1' },
      { field: 'targeting.namespace', problem: expect.stringContaining('start below end') },
      { field: 'variants[2]', problem: expect.stringContaining('must be a variant') },
      { field: 'variants[1].key', problem: 'repeats the key of variants[0]' },
      { field: 'variants', problem: 'the weights add up to 1.2; they must add up to 1' },
      { field: 'metrics[0].event', problem: 'a conversion metric needs the name of its track event' },
      { field: 'metrics[0].days', problem: 'must be a whole number of days from 1 to 365' },
      { field: 'metrics[1].event', problem: 'is for conversion metrics (revenue has its own events)' },
      { field: 'metrics[1].key', problem: 'repeats another metric’s key' },
      { field: 'targeting.placement', problem: 'is required when variants serve offers (the placement they are served in)' },
    ]);
  });

  it('needs 2 to 10 variants and a placement for offers, and a variant with offers for a placement', () => {
    expect(problems({ variants: [{ key: 'a', weight: 1 }] })).toEqual([{ field: 'variants', problem: 'must be a list of 2 to 10 variants; the first is the control' }]);
    expect(problems({ ...base, variants: base.variants.map((v) => ({ key: v.key, weight: v.weight })) })).toEqual([
      { field: 'targeting.placement', problem: 'needs a variant with offers to serve there' },
    ]);
    expect(problems(base)).toEqual([]);
  });
});
