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
        allocation: { type: 'fixed' },
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
      { field: 'metrics[1].event', problem: 'is for conversion and retention metrics (revenue has its own events)' },
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

  it('gives retention a window (a week by default) and an optional event, and filters only where they apply', () => {
    const checked = validateExperimentDefinition({ variants: base.variants.map((v) => ({ key: v.key, weight: v.weight })), metrics: [{ key: 'back', type: 'retention', days: 7 }] }, 'r');
    expect(checked.ok && checked.value.metrics).toEqual([{ key: 'back', type: 'retention', event: null, where: [], days: 7, windowDays: 7, guardrail: false, goodDirection: 'up' }]);
    const plain = base.variants.map((v) => ({ key: v.key, weight: v.weight }));
    expect(
      problems({
        variants: plain,
        metrics: [
          { key: 'a', type: 'retention', windowDays: 0 },
          { key: 'b', type: 'conversion', event: 'Order Completed', windowDays: 3 },
          { key: 'c', type: 'revenue', where: [{ property: 'category', op: 'eq', value: 'x' }] },
          { key: 'd', type: 'redemption', event: 'Order Completed' },
        ],
      }),
    ).toEqual([
      { field: 'metrics[0].windowDays', problem: 'must be a whole number of days from 1 to 90' },
      { field: 'metrics[1].windowDays', problem: 'is for retention metrics' },
      { field: 'metrics[2].where', problem: expect.stringContaining('revenue counts every order, refund and reward') },
      { field: 'metrics[3].event', problem: 'is for conversion and retention metrics (redemption has its own events)' },
    ]);
  });

  it('links a journey split only when every variant names a branch of the same split', () => {
    const branch = (journey: string, step: string, n: number) => ({ journey, step, branch: n });
    expect(
      problems({
        variants: [
          { key: 'a', weight: 0.4, journeyBranch: branch('winback', 'split', 1) },
          { key: 'b', weight: 0.3 },
          { key: 'c', weight: 0.3, journeyBranch: branch('winback', 'other', 2) },
        ],
      }),
    ).toEqual([
      { field: 'variants[1].journeyBranch', problem: expect.stringContaining('every variant does') },
      { field: 'variants[2].journeyBranch', problem: 'must name the same journey and split step as the others (winback, split)' },
    ]);
    expect(
      problems({
        variants: [
          { key: 'a', weight: 0.5, journeyBranch: branch('winback', 'split', 1) },
          { key: 'b', weight: 0.5, journeyBranch: branch('winback', 'split', 2) },
        ],
      }),
    ).toEqual([]);
  });

  it('takes a bandit on one of its metrics, within segments, with a floor each variant can keep', () => {
    const plain = base.variants.map((v) => ({ key: v.key, weight: v.weight }));
    const metrics = [
      { key: 'orders', type: 'conversion', event: 'Order Completed' },
      { key: 'refunds', type: 'conversion', event: 'Order Refunded', guardrail: true, goodDirection: 'down' },
    ];
    const checked = validateExperimentDefinition({ targeting: { segments: ['vip'] }, variants: plain, metrics, allocation: { type: 'bandit', metric: 'orders' } }, 'b');
    expect(checked.ok && checked.value.allocation).toEqual({ type: 'bandit', metric: 'orders', floor: 0.05, cadenceMinutes: 60 });
    expect(problems({ variants: plain, metrics, allocation: { type: 'bandit', metric: 'refunds', floor: 0.6, cadenceMinutes: 0 } })).toEqual([
      { field: 'allocation.metric', problem: expect.stringContaining('not a guardrail') },
      { field: 'allocation.floor', problem: 'must be a share from 0 to 1/2 (every variant keeps at least this much traffic)' },
      { field: 'allocation.cadenceMinutes', problem: expect.stringContaining('from 1 to 10,080') },
      { field: 'targeting.segments', problem: 'a bandit shifts traffic within segments: name at least one' },
    ]);
    expect(problems({ variants: plain, allocation: { type: 'greedy' } })).toEqual([{ field: 'allocation', problem: expect.stringContaining('"type": "bandit"') }]);
  });
});
