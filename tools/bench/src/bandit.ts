import { beta, seededRandom } from '@segmenta/analytics';
import { banditAllocations, type BanditArms } from '@segmenta/stats';
import { fmt, median, print } from './report';

export interface BanditBenchOptions {
  runs: number;
}

const SEGMENTS = 30;
const ARMS = 5;
/** The library's default. */
const DRAWS = 10_000;
const FLOOR = 0.05;
const TARGET_MS = 100;

/**
 * The bandit's allocation (issue 22): `banditAllocations` for 30 segments × 5 conversion arms with
 * the default 10,000 draws, as the service computes it on each cadence tick. The baseline, timed
 * in the same run, is the textbook implementation of the same estimate: each arm's Beta drawn with
 * @segmenta/analytics's `beta` (two Marsaglia–Tsang Gammas on Box–Muller normals, a Math.random
 * call per uniform), the winner counted per draw; the two allocations should agree to within
 * Monte Carlo noise.
 */
export function benchBanditAllocation(options: BanditBenchOptions): void {
  const segments = realisticSegments();
  print(`bandit: Thompson allocation of ${SEGMENTS} segments × ${ARMS} conversion arms, ${fmt(DRAWS)} draws per arm, floor ${FLOOR}; ${options.runs} runs`);
  const ours: number[] = [];
  const textbook: number[] = [];
  let largestDifference = 0;
  for (let run = 1; run <= options.runs; run += 1) {
    let started = performance.now();
    const weights = banditAllocations(segments, { floor: FLOOR });
    ours.push(performance.now() - started);

    started = performance.now();
    const baseline = textbookAllocations(segments);
    textbook.push(performance.now() - started);

    for (const key of Object.keys(segments)) weights[key].forEach((w, i) => (largestDifference = Math.max(largestDifference, Math.abs(w - baseline[key][i]))));
    print(`  run ${run}: ${ours[ours.length - 1].toFixed(1)} ms, textbook ${textbook[textbook.length - 1].toFixed(1)} ms`);
  }
  print('');
  print('| measure | value | target |');
  print('|---|---|---|');
  print(`| banditAllocations, ${SEGMENTS} × ${ARMS} arms × ${fmt(DRAWS)} draws (median of ${options.runs}) | ${median(ours).toFixed(1)} ms | < ${TARGET_MS} ms |`);
  print(`| textbook sampler, same estimate (baseline) | ${median(textbook).toFixed(1)} ms | |`);
  print(`| textbook / ours | ${(median(textbook) / median(ours)).toFixed(1)}× | ≥ 1× |`);
  // Each weight's Monte Carlo error is at most 0.85·√(¼/10,000) ≈ 0.004, a difference's ≈ 0.006: the largest of 150 per run is ~3.5 of those.
  print(`| largest weight difference between the two | ${largestDifference.toFixed(4)} | < 0.03 (Monte Carlo noise) |`);
}

/** Five arms per segment with 2,000–40,000 users each and conversion rates of 2–8 %, close enough that no arm is a sure winner. */
function realisticSegments(): Record<string, BanditArms> {
  const random = seededRandom(22);
  const segments: Record<string, BanditArms> = {};
  for (let s = 0; s < SEGMENTS; s += 1) {
    const baseRate = 0.02 + 0.06 * random();
    const arms = Array.from({ length: ARMS }, () => {
      const n = Math.round(2000 + 38_000 * random());
      const rate = baseRate * (0.9 + 0.2 * random());
      return { n, conversions: Math.round(n * rate) };
    });
    segments[`segment-${s}`] = { kind: 'conversion', arms };
  }
  return segments;
}

/** P(best) by the textbook sampler, floored as banditAllocations floors it. */
function textbookAllocations(segments: Record<string, BanditArms>): Record<string, number[]> {
  const result: Record<string, number[]> = {};
  for (const [key, segment] of Object.entries(segments)) {
    if (segment.kind !== 'conversion') throw new Error('the bench has conversion arms only');
    const wins = new Array<number>(segment.arms.length).fill(0);
    for (let draw = 0; draw < DRAWS; draw += 1) {
      let best = -Infinity;
      let winner = 0;
      segment.arms.forEach((arm, i) => {
        const value = beta(Math.random, 1 + arm.conversions, 1 + arm.n - arm.conversions);
        if (value > best) {
          best = value;
          winner = i;
        }
      });
      wins[winner] += 1;
    }
    result[key] = wins.map((w) => FLOOR + (1 - segment.arms.length * FLOOR) * (w / DRAWS));
  }
  return result;
}
