import { GrowthBookClient } from '@growthbook/growthbook';
import { compileAssignment, type AssignmentRules } from '@segmenta/stats';
import { fmt, median, print } from './report';

export interface ExperimentsBenchOptions {
  runs: number;
  /** Customer ids assigned per run. */
  assignments: number;
}

const TARGET_ASSIGNMENTS_PER_SECOND = 1_000_000;

/**
 * Assignment in process (issue 21): `assignments` customer ids through `compileAssignment` (offers' in-process assignment), and the same
 * ids through the GrowthBook JavaScript SDK's multi-user client (`runInlineExperiment`: one client,
 * each user's attributes passed with the call, as a server assigning many users uses it), in the
 * same run: the rate of each, and whether every id got the same variant.
 */
export function benchExperimentAssignment(options: ExperimentsBenchOptions): void {
  const rules: AssignmentRules = { seed: 'checkout-camera-offer', trafficShare: 0.8, weights: [0.34, 0.33, 0.33], namespace: null };
  const ids = Array.from({ length: options.assignments }, (_, i) => `${(i * 2654435761) >>> 0}-${i}`);
  print(`experiments: ${fmt(options.assignments)} assignments per run (3 variants, 80 % traffic), ours against the GrowthBook SDK's; ${options.runs} runs`);
  const ours: number[] = [];
  const theirs: number[] = [];
  let mismatches = 0;
  for (let run = 1; run <= options.runs; run += 1) {
    const picked = new Int8Array(ids.length);
    const assign = compileAssignment(rules);
    let started = performance.now();
    for (let i = 0; i < ids.length; i += 1) {
      const a = assign(ids[i]);
      picked[i] = a.inExperiment ? a.variant : -1;
    }
    ours.push(ids.length / ((performance.now() - started) / 1000));

    // The SDK's server-side client: one instance, each user's attributes passed with the call (synchronous).
    const gb = new GrowthBookClient({});
    const experiment = { key: 'checkout-camera-offer', seed: rules.seed, variations: [0, 1, 2] as [number, number, number], weights: [...rules.weights], coverage: rules.trafficShare, hashVersion: 2 };
    let differ = 0;
    started = performance.now();
    for (let i = 0; i < ids.length; i += 1) {
      const result = gb.runInlineExperiment(experiment, { attributes: { id: ids[i] } });
      if ((result.inExperiment ? result.variationId : -1) !== picked[i]) differ += 1;
    }
    theirs.push(ids.length / ((performance.now() - started) / 1000));
    mismatches += differ;
    print(`  run ${run}: ours ${fmt(ours[ours.length - 1])}/s, GrowthBook SDK ${fmt(theirs[theirs.length - 1])}/s, ${differ} ids differ`);
  }
  print('');
  print('| measure | value | target |');
  print('|---|---|---|');
  print(`| assignments/s in process (median of ${options.runs}) | ${fmt(median(ours))} | ≥ ${fmt(TARGET_ASSIGNMENTS_PER_SECOND)} |`);
  print(`| GrowthBook JavaScript SDK on the same ids (baseline) | ${fmt(median(theirs))}/s | |`);
  print(`| ours / theirs | ${(median(ours) / median(theirs)).toFixed(1)}× | ≥ 1× |`);
  print(`| ids given the same variant | ${mismatches === 0 ? '100 %' : `${mismatches} differ`} | 100 % |`);
}
