import type { ExperimentChangedV1 } from '@segmenta/contracts';
import { assignVariant } from '@segmenta/stats';
import { applyExperiments } from './experiment-offers';

describe('applyExperiments', () => {
  const experiment: ExperimentChangedV1 = {
    experimentId: '0b9f7f3e-5d0e-4f5c-9a51-2d7c2b1c9e10',
    key: 'checkout-test',
    status: 'running',
    revision: 2,
    seed: 'checkout-test',
    segments: ['camera-intent'],
    trafficShare: 0.5,
    placement: 'checkout',
    namespace: null,
    variants: [
      { key: 'control', name: 'Free shipping', weight: 0.5, offers: ['free-shipping'], journeyBranch: null, payload: null },
      { key: 'ten-off', name: '10 % off', weight: 0.5, offers: ['cameras-10'], journeyBranch: null, payload: null },
    ],
    at: '2026-12-03T10:00:00.000Z',
  };
  const offers = [{ key: 'free-shipping' }, { key: 'cameras-10' }, { key: 'welcome' }];
  const keys = (r: { offers: Array<{ key: string }> }) => r.offers.map((o) => o.key);
  const ids = Array.from({ length: 400 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

  it('serves each targeted customer the offers of their variant (as assignVariant picks it) and exposes them; the others get the control, unexposed', () => {
    const seen = new Set<string>();
    for (const id of ids) {
      const result = applyExperiments([experiment], 'checkout', id, (s) => s === 'camera-intent', offers);
      const a = assignVariant({ seed: 'checkout-test', trafficShare: 0.5, weights: [0.5, 0.5], namespace: null }, id);
      const variant = a.inExperiment ? experiment.variants[a.variant] : experiment.variants[0];
      expect(keys(result)).toEqual([variant.offers[0], 'welcome'].sort((x, y) => offers.findIndex((o) => o.key === x) - offers.findIndex((o) => o.key === y)));
      expect(result.exposures).toEqual(a.inExperiment ? [{ experimentId: experiment.experimentId, key: 'checkout-test', variant: variant.key }] : []);
      seen.add(a.inExperiment ? variant.key : 'out');
    }
    expect(seen).toEqual(new Set(['control', 'ten-off', 'out']));
  });

  it('leaves other placements, non-running experiments, untargeted customers and unknown visitors on the control without an exposure', () => {
    const id = ids.find((i) => {
      const a = assignVariant({ seed: 'checkout-test', trafficShare: 0.5, weights: [0.5, 0.5], namespace: null }, i);
      return a.inExperiment && a.variant === 1;
    }) as string;
    expect(keys(applyExperiments([experiment], 'home_banner', id, () => true, offers))).toEqual(['free-shipping', 'cameras-10', 'welcome']);
    expect(keys(applyExperiments([{ ...experiment, status: 'stopped' }], 'checkout', id, () => true, offers))).toEqual(['free-shipping', 'cameras-10', 'welcome']);
    expect(applyExperiments([experiment], 'checkout', id, () => false, offers)).toEqual({ offers: [{ key: 'free-shipping' }, { key: 'welcome' }], exposures: [] });
    expect(applyExperiments([experiment], 'checkout', null, () => true, offers)).toEqual({ offers: [{ key: 'free-shipping' }, { key: 'welcome' }], exposures: [] });
    expect(applyExperiments([experiment], 'checkout', id, () => true, offers)).toEqual({
      offers: [{ key: 'cameras-10' }, { key: 'welcome' }],
      exposures: [{ experimentId: experiment.experimentId, key: 'checkout-test', variant: 'ten-off' }],
    });
  });

  it('splits a bandit’s segment by the bandit’s weights for that segment, and everyone else by the variants’ weights', () => {
    const bandit: ExperimentChangedV1 = { ...experiment, trafficShare: 1, segments: ['camera-intent', 'vip'], segmentWeights: { vip: [0.1, 0.9] } };
    for (const id of ids) {
      const inVip = applyExperiments([bandit], 'checkout', id, (s) => s === 'vip', offers);
      const vipPick = assignVariant({ seed: 'checkout-test', trafficShare: 1, weights: [0.1, 0.9], namespace: null }, id);
      expect(inVip.exposures[0].variant).toBe(vipPick.inExperiment ? bandit.variants[vipPick.variant].key : 'none at full traffic');
      const intent = applyExperiments([bandit], 'checkout', id, (s) => s === 'camera-intent', offers);
      const intentPick = assignVariant({ seed: 'checkout-test', trafficShare: 1, weights: [0.5, 0.5], namespace: null }, id);
      expect(intent.exposures[0].variant).toBe(intentPick.inExperiment ? bandit.variants[intentPick.variant].key : 'none at full traffic');
    }
    const tenOffInVip = ids.filter((id) => applyExperiments([bandit], 'checkout', id, (s) => s === 'vip', offers).exposures[0].variant === 'ten-off').length;
    expect(tenOffInVip / ids.length).toBeGreaterThan(0.8);
  });
});
