import { logBeta, seededRandom } from '@segmenta/analytics';
import { banditAllocations, probabilityOfBeingBest, thompsonAllocation, type BanditArms } from './bandit';
import { normalCdf, regularizedIncompleteBeta } from './distributions';
import type { ProportionStatistics } from './sufficient-statistics';
import { binomialSampler } from './testing/binomial-sampler';

/**
 * The Monte Carlo P(best) against independent computations (Evan Miller's closed form, numeric
 * integration, the normal CDF), the floor's arithmetic, the input checks, and a simulated bandit.
 */

/** Evan Miller's closed form of P(p_B > p_A) for Beta(1 + x, 1 + n − x) posteriors (integer parameters). */
function evanMiller(control: ProportionStatistics, treatment: ProportionStatistics): number {
  const [aA, bA] = [1 + control.conversions, 1 + control.n - control.conversions];
  const [aB, bB] = [1 + treatment.conversions, 1 + treatment.n - treatment.conversions];
  let total = 0;
  for (let i = 0; i < aB; i += 1) total += Math.exp(logBeta(aA + i, bA + bB) - Math.log(bB + i) - logBeta(1 + i, bB) - logBeta(aA, bA));
  return total;
}

/** Composite Simpson's rule with n (even) intervals. */
function simpson(f: (x: number) => number, lower: number, upper: number, n = 4000): number {
  const h = (upper - lower) / n;
  let sum = f(lower) + f(upper);
  for (let i = 1; i < n; i += 1) sum += (i % 2 === 1 ? 4 : 2) * f(lower + i * h);
  return (sum * h) / 3;
}

/** Monte Carlo's estimate of a probability p from `draws` draws has standard error √(p(1 − p)/draws). */
function expectWithinStandardErrors(estimate: number, exact: number, draws: number, errors: number): void {
  const standardError = Math.sqrt((exact * (1 - exact)) / draws);
  expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(errors * standardError);
}

const conversion = (...arms: [n: number, conversions: number][]): BanditArms => ({ kind: 'conversion', arms: arms.map(([n, conversions]) => ({ n, conversions })) });

describe('P(best) of conversion arms', () => {
  it("100 trials/10 conversions vs 100/15: the default 10,000 draws within 3 standard errors of Evan Miller's closed form", () => {
    const exact = evanMiller({ n: 100, conversions: 10 }, { n: 100, conversions: 15 });
    // About 0.86 by hand; the closed form itself is checked against numeric integration in bayesian.spec.ts.
    expect(exact).toBeGreaterThan(0.8);
    expect(exact).toBeLessThan(0.9);
    const [pA, pB] = probabilityOfBeingBest(conversion([100, 10], [100, 15]), { random: seededRandom(1) });
    expect(pA + pB).toBeCloseTo(1, 12);
    expectWithinStandardErrors(pB, exact, 10_000, 3);
  });

  it.each([
    ['no data vs 1/3 (shape-1 Gammas: the ziggurat tail and the exact acceptance test)', [0, 0], [3, 1]],
    ['200/1000 vs 230/1000', [1000, 200], [1000, 230]],
    ['5/9000 vs 1/10000 (rare events)', [9000, 5], [10_000, 1]],
    ['20,000/100,000 vs 25/100 (a narrow and a wide posterior)', [100_000, 20_000], [100, 25]],
  ] as [string, [number, number], [number, number]][])("%s: 100,000 draws within 3 standard errors of Evan Miller's closed form", (_name, a, b) => {
    const exact = evanMiller({ n: a[0], conversions: a[1] }, { n: b[0], conversions: b[1] });
    const [, pB] = probabilityOfBeingBest(conversion(a, b), { draws: 100_000, random: seededRandom(2) });
    expectWithinStandardErrors(pB, exact, 100_000, 3);
  });

  it('three arms: each P(best) = ∫ f_i(t)·Π_{j≠i} F_j(t) dt by numeric integration, within 3 standard errors', () => {
    const arms: [number, number][] = [
      [400, 40],
      [380, 45],
      [150, 15],
    ];
    const posteriors = arms.map(([n, x]) => ({ a: 1 + x, b: 1 + n - x }));
    const density = ({ a, b }: { a: number; b: number }, t: number) => (t <= 0 || t >= 1 ? 0 : Math.exp((a - 1) * Math.log(t) + (b - 1) * Math.log1p(-t) - logBeta(a, b)));
    const exact = posteriors.map((own, i) =>
      simpson((t) => density(own, t) * posteriors.reduce((product, other, j) => (j === i ? product : product * regularizedIncompleteBeta(t, other.a, other.b)), 1), 0, 0.5),
    );
    // Beyond 0.5 every density is below 1e-30: the three integrals are the whole probability.
    expect(exact.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 8);
    const estimate = probabilityOfBeingBest(conversion(...arms), { draws: 100_000, random: seededRandom(3) });
    estimate.forEach((p, i) => expectWithinStandardErrors(p, exact[i], 100_000, 3));
  });
});

describe('P(best) of mean arms', () => {
  const meanArm = (n: number, mean: number, sd: number) => ({ n, sum: n * mean, sumOfSquares: (n - 1) * sd * sd + n * mean * mean });

  it.each([
    ['close', meanArm(200, 10, 4), meanArm(150, 10.5, 5)],
    ['far apart (a tail probability)', meanArm(50, 20, 3), meanArm(60, 18.5, 3.5)],
    ['equal means', meanArm(30, 5, 1), meanArm(300, 5, 2)],
  ])('%s: P(B > A) = Φ((μB − μA)/√(σA²/nA + σB²/nB)) within 3 standard errors', (_name, a, b) => {
    const summary = (arm: { n: number; sum: number; sumOfSquares: number }) => ({ mean: arm.sum / arm.n, variance: (arm.sumOfSquares - arm.sum ** 2 / arm.n) / (arm.n - 1) });
    const [sA, sB] = [summary(a), summary(b)];
    const exact = normalCdf((sB.mean - sA.mean) / Math.sqrt(sA.variance / a.n + sB.variance / b.n));
    const [, pB] = probabilityOfBeingBest({ kind: 'mean', arms: [a, b] }, { draws: 100_000, random: seededRandom(4) });
    expectWithinStandardErrors(pB, exact, 100_000, 3);
  });

  it('an arm with n < 2 gets the wide prior N(pooled mean, pooled variance of one value)', () => {
    const a = { n: 40, sum: 400, sumOfSquares: 40 * 100 + 39 * 9 };
    const b = { n: 1, sum: 12, sumOfSquares: 144 };
    // Pooled by hand: 41 users, Σx = 412, Σx² = 4495.
    const pooledMean = 412 / 41;
    const pooledVariance = (4495 - 412 ** 2 / 41) / 40;
    const exact = normalCdf((pooledMean - 10) / Math.sqrt(9 / 40 + pooledVariance));
    const [, pB] = probabilityOfBeingBest({ kind: 'mean', arms: [a, b] }, { draws: 100_000, random: seededRandom(5) });
    expectWithinStandardErrors(pB, exact, 100_000, 3);
  });

  it('splits evenly when the segment has fewer than two users, or every draw ties', () => {
    expect(
      thompsonAllocation(
        {
          kind: 'mean',
          arms: [
            { n: 0, sum: 0, sumOfSquares: 0 },
            { n: 1, sum: 3, sumOfSquares: 9 },
          ],
        },
        { floor: 0 },
      ),
    ).toEqual([0.5, 0.5]);
    // Every value 0 in both arms: point posteriors at 0, tied in every draw.
    const zeros = { n: 10, sum: 0, sumOfSquares: 0 };
    for (const p of probabilityOfBeingBest({ kind: 'mean', arms: [zeros, zeros, zeros] }, { random: seededRandom(6) })) expect(p).toBeCloseTo(1 / 3, 12);
  });
});

describe('floor', () => {
  const floor = 0.05;

  it('gives every arm at least the floor and sums to 1', () => {
    const random = seededRandom(7);
    for (const arms of [conversion([1000, 10], [1000, 50], [1000, 51], [10, 0]), conversion([500, 40], [520, 43], [480, 39]), conversion([0, 0], [0, 0])]) {
      const weights = thompsonAllocation(arms, { floor, random });
      expect(weights).toHaveLength(arms.arms.length);
      for (const w of weights) expect(w).toBeGreaterThanOrEqual(floor);
      expect(Math.abs(weights.reduce((s, w) => s + w, 0) - 1)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('is w_i = floor + (1 − k·floor)·P(best) on the same draws', () => {
    const arms = conversion([500, 40], [520, 43], [480, 39]);
    const pBest = probabilityOfBeingBest(arms, { random: seededRandom(8) });
    const weights = thompsonAllocation(arms, { floor, random: seededRandom(8) });
    weights.forEach((w, i) => expect(w).toBeCloseTo(floor + (1 - 3 * floor) * pBest[i], 15));
  });

  it('splits equal arms about equally', () => {
    const weights = thompsonAllocation(conversion([800, 80], [800, 80], [800, 80], [800, 80]), { floor, random: seededRandom(9) });
    // P(best) ¼ each, standard error √(¼·¾/10,000) ≈ 0.0043 before the factor 0.8.
    for (const w of weights) expect(Math.abs(w - 0.25)).toBeLessThan(0.015);
  });

  it('gives a sure winner 1 − (k − 1)·floor and the others exactly the floor', () => {
    const weights = thompsonAllocation(conversion([5000, 50], [5000, 1000], [5000, 55]), { floor, random: seededRandom(10) });
    expect(weights[0]).toBe(floor);
    expect(weights[2]).toBe(floor);
    expect(weights[1]).toBeCloseTo(1 - 2 * floor, 15);
  });

  it('is the equal split at floor = 1/k, and plain P(best) at floor 0', () => {
    expect(thompsonAllocation(conversion([100, 1], [100, 50], [100, 2]), { floor: 1 / 3, random: seededRandom(11) })).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const arms = conversion([100, 10], [100, 15]);
    expect(thompsonAllocation(arms, { floor: 0, random: seededRandom(12) })).toEqual(probabilityOfBeingBest(arms, { random: seededRandom(12) }));
  });

  it('gives a single arm all the traffic', () => {
    expect(thompsonAllocation(conversion([10, 3]), { floor: 0.5 })).toEqual([1]);
  });
});

describe('input checks', () => {
  const arms = conversion([100, 10], [100, 15], [100, 12]);

  it.each([
    ['a floor above 1/k', () => thompsonAllocation(arms, { floor: 0.34 }), /floor must be within \[0, 1\/arms\]/],
    ['a negative floor', () => thompsonAllocation(arms, { floor: -0.01 }), /floor must be within/],
    ['a NaN floor', () => thompsonAllocation(arms, { floor: NaN }), /floor must be within/],
    ['no arms', () => thompsonAllocation(conversion(), { floor: 0 }), /at least one arm/],
    ['negative trials', () => thompsonAllocation(conversion([-1, 0], [10, 1]), { floor: 0 }), /arm 0: n must be a finite count ≥ 0/],
    ['negative conversions', () => thompsonAllocation(conversion([10, 1], [10, -1]), { floor: 0 }), /arm 1: conversions must be within \[0, n\]/],
    ['more conversions than trials', () => thompsonAllocation(conversion([10, 11], [10, 1]), { floor: 0 }), /conversions must be within \[0, n\], got 11 of 10/],
    ['a negative mean-arm count', () => thompsonAllocation({ kind: 'mean', arms: [{ n: -2, sum: 0, sumOfSquares: 0 }] }, { floor: 0 }), /n must be a finite count/],
    ['a negative Σx²', () => thompsonAllocation({ kind: 'mean', arms: [{ n: 2, sum: 1, sumOfSquares: -1 }] }, { floor: 0 }), /sumOfSquares must be finite and ≥ 0/],
    ['draws of 0', () => thompsonAllocation(arms, { floor: 0, draws: 0 }), /draws must be a positive integer/],
    ['fractional draws', () => probabilityOfBeingBest(arms, { draws: 10.5 }), /draws must be a positive integer/],
    ['an unknown kind', () => thompsonAllocation({ kind: 'revenue', arms: [] } as unknown as BanditArms, { floor: 0 }), /kind must be 'conversion' or 'mean'/],
  ])('refuses %s with a RangeError', (_name, call, message) => {
    expect(call).toThrow(RangeError);
    expect(call).toThrow(message);
  });

  it('names the segment in banditAllocations', () => {
    expect(() => banditAllocations({ ok: arms, 'vip-uk': conversion([10, 12]) }, { floor: 0 })).toThrow(new RangeError('segment "vip-uk": arm 0: conversions must be within [0, n], got 12 of 10'));
  });
});

describe('reproducibility and many segments', () => {
  const segments = {
    'new-customers': conversion([1200, 60], [1180, 71], [1210, 58]),
    'lapsed-vip': conversion([300, 30], [310, 28]),
    'basket-value': { kind: 'mean', arms: [meanStatistics(400, 52, 20), meanStatistics(410, 55, 22)] } as BanditArms,
  };

  function meanStatistics(n: number, mean: number, sd: number) {
    return { n, sum: n * mean, sumOfSquares: (n - 1) * sd * sd + n * mean * mean };
  }

  it('gives the same weights for the same seed, and different ones for another', () => {
    const first = banditAllocations(segments, { floor: 0.05, random: seededRandom(13) });
    expect(banditAllocations(segments, { floor: 0.05, random: seededRandom(13) })).toEqual(first);
    expect(banditAllocations(segments, { floor: 0.05, random: seededRandom(14) })).not.toEqual(first);
  });

  it('is each segment’s thompsonAllocation in key order on one random source', () => {
    const together = banditAllocations(segments, { floor: 0.05, random: seededRandom(15) });
    const random = seededRandom(15);
    const oneByOne = Object.fromEntries(Object.entries(segments).map(([key, arms]) => [key, thompsonAllocation(arms, { floor: 0.05, random })]));
    expect(together).toEqual(oneByOne);
    expect(Object.keys(together)).toEqual(['new-customers', 'lapsed-vip', 'basket-value']);
  });
});

describe('a simulated bandit', () => {
  it('moves most traffic to the best of 0.05/0.05/0.10 within 30 rounds of 500, keeps the floor, and regrets less than an equal split', () => {
    const rates = [0.05, 0.05, 0.1];
    const floor = 0.05;
    const rounds = 30;
    const customersPerRound = 500;
    const random = seededRandom(16);
    const arms = rates.map(() => ({ n: 0, conversions: 0 }));
    const history: number[][] = [];
    let regret = 0;
    for (let round = 0; round < rounds; round += 1) {
      const weights = thompsonAllocation({ kind: 'conversion', arms }, { floor, random });
      history.push(weights);
      // Each customer to an arm by the weights, then the arm's conversions drawn at its true rate.
      const assigned = rates.map(() => 0);
      for (let c = 0; c < customersPerRound; c += 1) {
        let u = random();
        let arm = 0;
        while (arm < weights.length - 1 && u >= weights[arm]) u -= weights[arm++];
        assigned[arm] += 1;
      }
      assigned.forEach((count, i) => {
        if (count === 0) return;
        arms[i].n += count;
        arms[i].conversions += binomialSampler(count, rates[i])(random);
        regret += count * (Math.max(...rates) - rates[i]);
      });
    }
    for (const weights of history) for (const w of weights) expect(w).toBeGreaterThanOrEqual(floor);
    for (const weights of history.slice(-5)) expect(weights[2]).toBeGreaterThan(0.7);
    // An equal split loses (0.10 − 0.05) on two thirds of the customers.
    const equalSplitRegret = rounds * customersPerRound * (2 / 3) * 0.05;
    expect(regret).toBeLessThan(0.6 * equalSplitRegret);
  });
});
