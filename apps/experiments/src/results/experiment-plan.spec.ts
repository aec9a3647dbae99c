import { planExperiment } from './experiment-plan';

describe('planExperiment', () => {
  it('reproduces the datasets README’s two-proportion example (baseline 0.20, +0.05, α 0.05, power 0.8 → 1,030.2 per arm), rounded up', () => {
    expect(planExperiment({ metric: 'conversion', baseline: 0.2, absoluteLift: 0.05 })).toEqual({
      ok: true,
      plan: { perVariant: 1031, total: 2062, days: null, absoluteLift: 0.05, alphaPerComparison: 0.05, power: 0.8, variants: 2 },
    });
    // A relative lift of 25 % on 0.20 is the same +0.05; 200 eligible a day at half traffic brings 2,062 in 21 days.
    const relative = planExperiment({ metric: 'conversion', baseline: 0.2, relativeLift: 0.25, dailyTraffic: 200, trafficShare: 0.5 });
    expect(relative.ok && [relative.plan.perVariant, relative.plan.days]).toEqual([1031, 21]);
  });

  it('sizes a mean as 2σ²(z₀.₉₇₅ + z₀.₈)²/δ², and splits α over the treatments', () => {
    // σ 50, δ 5: 2 × 2500 × (1.959964 + 0.841621)² / 25 = 1,569.8 → 1,570.
    const mean = planExperiment({ metric: 'mean', standardDeviation: 50, absoluteLift: 5 });
    expect(mean.ok && mean.plan.perVariant).toBe(1570);
    // Three variants: two comparisons at α 0.025 each, z₀.₉₈₇₅ = 2.241403: 2 × 2500 × (2.241403 + 0.841621)² / 25 = 1,901.007 → 1,902 (Python’s NormalDist gives the same).
    const three = planExperiment({ metric: 'mean', standardDeviation: 50, absoluteLift: 5, variants: 3 });
    expect(three.ok && [three.plan.perVariant, three.plan.total, three.plan.alphaPerComparison]).toEqual([1902, 5706, 0.025]);
  });

  it('names what is missing or contradictory', () => {
    const problems = (input: Parameters<typeof planExperiment>[0]) => {
      const planned = planExperiment(input);
      return planned.ok ? [] : planned.problems.map((p) => p.field);
    };
    expect(problems({ metric: 'conversion', absoluteLift: 0.1, relativeLift: 0.2 })).toEqual(['absoluteLift', 'baseline']);
    expect(problems({ metric: 'mean', baseline: 10, relativeLift: 0.1, trafficShare: 0.5 })).toEqual(['standardDeviation', 'dailyTraffic']);
    expect(problems({ metric: 'conversion', baseline: 0.9, absoluteLift: 0.2 })).toEqual(['absoluteLift']);
  });
});
