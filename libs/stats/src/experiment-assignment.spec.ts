import { GrowthBook } from '@growthbook/growthbook';
import { assignVariant, banditSegmentOf, compileAssignment, type AssignmentRules } from './experiment-assignment';

/** Our assignment against GrowthBook's own JavaScript SDK (a dev dependency): the same ids land in the same variants. */
describe('assignVariant', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `customer-${i}-${(i * 7919) % 10_007}`);

  function theirs(rules: AssignmentRules, id: string): number | null {
    const gb = new GrowthBook({ attributes: { id } });
    const result = gb.run({
      key: 'checkout-test',
      seed: rules.seed,
      variations: rules.weights.map((_, i) => i) as [number, number, ...number[]],
      weights: [...rules.weights],
      coverage: rules.trafficShare,
      hashVersion: 2,
      ...(rules.namespace ? { namespace: [rules.namespace.id, rules.namespace.start, rules.namespace.end] as [string, number, number] } : {}),
    });
    gb.destroy();
    return result.inExperiment ? result.variationId : null;
  }

  const ours = (rules: AssignmentRules, id: string) => {
    const a = assignVariant(rules, id);
    return a.inExperiment ? a.variant : null;
  };

  it.each([
    ['three variants, 80 % of traffic', { seed: 'checkout-test', trafficShare: 0.8, weights: [0.5, 0.3, 0.2], namespace: null }],
    ['two variants, everyone', { seed: 'a-seed', trafficShare: 1, weights: [0.5, 0.5], namespace: null }],
    ['in a namespace slice', { seed: 'ns-test', trafficShare: 0.5, weights: [0.34, 0.33, 0.33], namespace: { id: 'checkout', start: 0.2, end: 0.7 } }],
  ] as Array<[string, AssignmentRules]>)('picks what the GrowthBook SDK picks for 10,000 ids: %s', (_name, rules) => {
    const mismatches = ids.filter((id) => ours(rules, id) !== theirs(rules, id));
    expect(mismatches).toEqual([]);
    const compiled = compileAssignment(rules);
    expect(ids.filter((id) => JSON.stringify(compiled(id)) !== JSON.stringify(assignVariant(rules, id)))).toEqual([]);
    // Not trivially equal: both put customers in every variant and leave some out when they should.
    const counts = new Map<number | null, number>();
    for (const id of ids) counts.set(ours(rules, id), (counts.get(ours(rules, id)) ?? 0) + 1);
    expect([...counts.keys()].filter((k) => k !== null).length).toBe(rules.weights.length);
    if (rules.trafficShare < 1 || rules.namespace) expect(counts.get(null) ?? 0).toBeGreaterThan(0);
  });

  it('says why a customer is not in the experiment', () => {
    const outside = ids.map((id) => assignVariant({ seed: 's', trafficShare: 0.1, weights: [0.5, 0.5], namespace: { id: 'n', start: 0, end: 0.5 } }, id)).filter((a) => !a.inExperiment);
    expect(new Set(outside.map((a) => (a.inExperiment ? '' : a.reason)))).toEqual(new Set(['namespace', 'traffic']));
  });
});

describe('banditSegmentOf', () => {
  it('picks the first targeted segment, in targeting order, that has weights and holds the customer', () => {
    const weights = { vip: [0.1, 0.9], new: [0.5, 0.5] };
    expect(banditSegmentOf(['new', 'vip'], weights, (s) => s === 'vip' || s === 'new')).toBe('new');
    expect(banditSegmentOf(['loyal', 'vip'], weights, (s) => s === 'loyal' || s === 'vip')).toBe('vip');
    expect(banditSegmentOf(['loyal'], weights, () => true)).toBeUndefined();
    expect(banditSegmentOf(['vip'], null, () => true)).toBeUndefined();
    expect(banditSegmentOf(['vip'], weights, () => false)).toBeUndefined();
  });
});
