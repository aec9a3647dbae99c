import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { compileFactsCrossing, compileMembersQuery, compilePredicate, timeBoundaries, type ProfileSnapshot, type SegmentDefinition } from '@segmenta/segment-rules';
import { startBenchService } from './bench-service';
import { benchRealtime, serviceApi as api, type RealtimeBenchOptions } from './realtime';
import { fmt, median, print } from './report';
import { BENCH_SEGMENTS, CATEGORIES, COUNTRIES, STAGES, seedStatements } from './segment-definitions';

const DAY = 86_400_000;

export interface SegmentationBenchOptions {
  natsUrl: string;
  postgresUrl: string | undefined;
  profiles: number;
  factsPerProfile: number;
  realtime: Omit<RealtimeBenchOptions, 'natsUrl' | 'postgresUrl'>;
  runs: number;
}

export async function benchSegmentation(options: SegmentationBenchOptions): Promise<void> {
  benchEvaluator(options.runs);
  if (options.profiles > 0) await benchRecompute(options);
  if (options.realtime.seconds > 0) await benchRealtime({ natsUrl: options.natsUrl, postgresUrl: options.postgresUrl, ...options.realtime });
}

/** A deterministic pseudo-random snapshot population like the one the recompute bench seeds. */
function snapshots(count: number, now: number): ProfileSnapshot[] {
  let state = 42;
  const rnd = () => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const pick = <T>(values: T[]) => values[Math.floor(rnd() * values.length)];
  return Array.from({ length: count }, (_, i) => ({
    traits: { country: pick(COUNTRIES), plan: pick(['free', 'free', 'silver', 'gold']), ...(rnd() < 0.7 ? { email: `c${i}@example.com` } : {}) },
    features: {
      orders: Math.floor(rnd() ** 2 * 20),
      recency_days: Math.floor(rnd() * 365),
      rfm_r: 1 + Math.floor(rnd() * 5),
      rfm_f: 1 + Math.floor(rnd() * 5),
      lifecycle_stage: pick(STAGES),
      top_category: pick(CATEGORIES),
      clv: rnd() * 1000,
      p_alive: rnd(),
    },
    facts: Array.from({ length: 10 }, () => ({
      name: pick(['Product Viewed', 'Product Viewed', 'Product Added', 'Order Completed', 'Page Viewed']),
      props: { category: pick(CATEGORIES), price: rnd() * 300, revenue: rnd() * 200 },
      at: now - rnd() * 365 * DAY,
    })),
  }));
}

/** Calls of `fn` over `items` per second, repeated for about `ms`. */
function rate(items: ProfileSnapshot[], fn: (p: ProfileSnapshot, now: number) => boolean, now: number, ms = 400): number {
  let calls = 0;
  let hits = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < items.length; i += 1) if (fn(items[i], now)) hits += 1;
    calls += items.length;
    elapsed = performance.now() - started;
  }
  // `hits` is read so the loop cannot be optimised away.
  return hits >= 0 ? calls / (elapsed / 1000) : 0;
}

const spread = (values: number[]) => `${fmt(Math.min(...values))} / ${fmt(median(values))} / ${fmt(Math.max(...values))}`;
const percent = (ratio: number) => `${(ratio * 100).toFixed(0)} %`;

/**
 * In-memory evaluator: single-condition definitions (so one predicate call is one condition
 * evaluation), each compiled once, against a hand-written closure doing the same test (the ceiling).
 * Both are called the same way (`fn(profile, now)` from the same loop), one after the other for each
 * condition (the order alternating between runs), so a run's ratio compares the same moments of a
 * shared machine. Prints the minimum, median and maximum over the runs and the worst run's ratio.
 */
export function benchEvaluator(runs: number): void {
  const now = Date.now();
  const population = snapshots(20_000, now);
  const conditions: Array<{ name: string; definition: SegmentDefinition; handWritten: (p: ProfileSnapshot) => boolean }> = [
    { name: 'trait eq', definition: { trait: 'country', op: 'eq', value: 'DE' }, handWritten: (p) => p.traits.country === 'DE' },
    {
      name: 'trait in',
      definition: { trait: 'country', op: 'in', value: ['DE', 'AT', 'CH'] },
      handWritten: (p) => p.traits.country === 'DE' || p.traits.country === 'AT' || p.traits.country === 'CH',
    },
    { name: 'trait exists', definition: { trait: 'email', op: 'exists' }, handWritten: (p) => p.traits.email !== undefined && p.traits.email !== null },
    { name: 'trait contains', definition: { trait: 'email', op: 'contains', value: '7@' }, handWritten: (p) => typeof p.traits.email === 'string' && p.traits.email.includes('7@') },
    { name: 'feature gte', definition: { feature: 'orders', op: 'gte', value: 5 }, handWritten: (p) => typeof p.features.orders === 'number' && p.features.orders >= 5 },
    {
      name: 'feature between',
      definition: { feature: 'recency_days', op: 'between', value: [30, 90] },
      handWritten: (p) => typeof p.features.recency_days === 'number' && p.features.recency_days >= 30 && p.features.recency_days <= 90,
    },
    {
      name: 'feature neq (text)',
      definition: { feature: 'lifecycle_stage', op: 'neq', value: 'lapsed' },
      handWritten: (p) => p.features.lifecycle_stage !== undefined && p.features.lifecycle_stage !== 'lapsed',
    },
  ];
  const compiled = conditions.map((c) => compilePredicate(c.definition));
  const behaviour: SegmentDefinition = { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 2 }, within: 'P30D' };
  const b = compilePredicate(behaviour);
  const segments = BENCH_SEGMENTS.map((s) => compilePredicate(s.definition));
  const ours: number[] = [];
  const ceiling: number[] = [];
  const ratios: number[] = [];
  const behaviourRates: number[] = [];
  const segmentRates: number[] = [];
  const total = Math.max(3, runs);
  // Each condition runs for the same time, so the mean of the rates is the overall rate.
  const mean = (values: number[]) => values.reduce((x, y) => x + y, 0) / values.length;
  for (let run = 0; run < total; run += 1) {
    const oursNow: number[] = [];
    const ceilingNow: number[] = [];
    conditions.forEach((c, i) => {
      if (run % 2 === 0) {
        oursNow.push(rate(population, compiled[i], now));
        ceilingNow.push(rate(population, c.handWritten, now));
      } else {
        ceilingNow.push(rate(population, c.handWritten, now));
        oursNow.push(rate(population, compiled[i], now));
      }
    });
    ours.push(mean(oursNow));
    ceiling.push(mean(ceilingNow));
    ratios.push(ours[run] / ceiling[run]);
    print(`  run ${run + 1}: compiled ${fmt(ours[run])}, hand-written ${fmt(ceiling[run])} conditions/s (${percent(ratios[run])})`);
    behaviourRates.push(rate(population, b, now));
    segmentRates.push(
      rate(
        population,
        (p) => {
          let any = false;
          for (const s of segments) any = s(p, now) || any;
          return any;
        },
        now,
      ) * segments.length,
    );
  }
  print('');
  print(`segment-rules in-memory evaluator: ${conditions.length} single-condition definitions × 20,000 profile snapshots, ${total} runs`);
  print('');
  print('| measure | min / median / max | target |');
  print('|---|---|---|');
  print(`| hand-written closures doing the same tests (ceiling) | ${spread(ceiling)} conditions/s | |`);
  print(`| compiled predicates, one condition each | ${spread(ours)} conditions/s | ≥ 10,000,000 |`);
  print(`| compiled / hand-written in the same run: worst / median / best | ${percent(Math.min(...ratios))} / ${percent(median(ratios))} / ${percent(Math.max(...ratios))} | ≥ 50 % in every run |`);
  print(`| behaviour condition over 10 facts (filter + count in a 30-day window) | ${spread(behaviourRates)} evaluations/s | |`);
  print(`| the 20 bench segments (mixed), profile × segment | ${spread(segmentRates)} evaluations/s | |`);
}

/**
 * Full recompute of the 20 segments over `profiles` customers with `factsPerProfile` facts each,
 * through the service (POST /v1/segments/recompute: one shared-aggregate statement, the diff in
 * SQL, changes logged and published), against one statement per segment in the same run.
 */
async function benchRecompute(options: SegmentationBenchOptions): Promise<void> {
  if (!options.postgresUrl) {
    print('segmentation recompute: skipped (needs a PostgreSQL server; set DATABASE_URL)');
    return;
  }
  // The schedule is pushed out of the way: only the measured recomputes run.
  const bench = await startBenchService({
    app: 'segmentation',
    natsUrl: options.natsUrl,
    postgresUrl: options.postgresUrl,
    label: 'bench-seg',
    env: { SEGMENTS_RECOMPUTE_CRON: '0 0 1 1 *', SEGMENTS_FULL_RECOMPUTE_CRON: '0 0 1 1 *' },
  });
  const { service, adminKey } = bench;
  const client = new Client({ connectionString: bench.databaseUrl });
  try {
    const builtins = (await api(service, adminKey, 'GET', '/v1/segments')) as Array<{ key: string }>;
    for (const b of builtins) await api(service, adminKey, 'DELETE', `/v1/segments/${b.key}`);
    const created: Array<{ id: string; key: string; definition: SegmentDefinition }> = [];
    for (const s of BENCH_SEGMENTS) {
      const row = (await api(service, adminKey, 'POST', '/v1/segments', { key: s.key, name: s.key, definition: s.definition })) as { id: string };
      created.push({ id: row.id, key: s.key, definition: s.definition });
    }

    await client.connect();
    print('');
    print(`segmentation: seeding ${fmt(options.profiles)} profiles × ${options.factsPerProfile} behaviour facts (${fmt(options.profiles * options.factsPerProfile)} facts)…`);
    const seedStarted = performance.now();
    const indexes = (
      await client.query(`select indexname, indexdef from pg_indexes where schemaname = 'segmentation' and tablename = 'behaviour_facts' and indexname not in (select conname from pg_constraint)`)
    ).rows as Array<{ indexname: string; indexdef: string }>;
    for (const index of indexes) await client.query(`drop index segmentation.${index.indexname}`);
    for (const statement of seedStatements(options.profiles, options.factsPerProfile)) await client.query(statement);
    // pg_indexes shows a partitioned table's index as `ON ONLY` (the parent alone): without ONLY it is built on every partition, as the migration built it.
    for (const index of indexes) await client.query(index.indexdef.replace(' ON ONLY ', ' ON '));
    await client.query('analyze segmentation.profile_view; analyze segmentation.behaviour_facts');
    print(`  seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

    const tables = { profileView: 'segmentation.profile_view', behaviourFacts: 'segmentation.behaviour_facts', memberships: 'segmentation.memberships' };
    const segmentId = (key: string) => created.find((c) => c.key === key)?.id;
    // Memberships as a recompute a day earlier left them: the measured one then finds a day's differences.
    const yesterday = Date.now() - DAY;
    const primeStarted = performance.now();
    for (const s of created) {
      const q = compileMembersQuery(s.definition, { tables, now: yesterday, segmentId });
      const offset = q.values.length;
      await client.query(`insert into segmentation.memberships (segment_id, profile_id, since) select $${offset + 1}::uuid, profile_id, now() - interval '1 day' from (${q.text}) q`, [
        ...q.values,
        s.id,
      ]);
    }
    // As autovacuum leaves tables whose rows arrived over weeks: hint bits set, visibility map current
    // (otherwise the first statement to read the freshly bulk-loaded rows pays for writing them).
    await client.query('vacuum analyze segmentation.profile_view, segmentation.behaviour_facts, segmentation.memberships');
    const members = (await client.query('select count(*)::int as n from segmentation.memberships')).rows[0].n as number;
    print(`  memberships as of a day earlier: ${fmt(members)} (${((performance.now() - primeStarted) / 1000).toFixed(1)} s)`);

    // …and the segments as evaluated then, so a recompute since the last one looks back a day.
    await client.query('update segmentation.segments set evaluated_at = $1', [new Date(yesterday).toISOString()]);

    const baseline: number[] = [];
    for (let run = 1; run <= options.runs; run += 1) {
      const started = performance.now();
      for (const s of created) {
        const q = compileMembersQuery(s.definition, { tables, now: Date.now(), segmentId });
        await client.query(`select count(*) from (${q.text}) q`, q.values);
      }
      baseline.push(performance.now() - started);
      print(`  run ${run}: one statement per segment (count only, no diff, nothing written) ${(baseline[baseline.length - 1] / 1000).toFixed(2)} s`);
    }
    type Summary = { mode: string; entered: number; exited: number; profiles: number; evaluated: number };
    const timed = async (path: string, what: string) => {
      const t = performance.now();
      const summary = (await api(service, adminKey, 'POST', path)) as Summary;
      const ms = performance.now() - t;
      print(
        `  ${what}: ${(ms / 1000).toFixed(2)} s, ${fmt(summary.evaluated)} of ${fmt(summary.profiles)} profiles evaluated: ${fmt(summary.entered)} entered, ${fmt(summary.exited)} exited (logged and published)`,
      );
      return { ms, ...summary };
    };
    // The default (and scheduled) recompute: only what time changed since the last one, a day ago (ADR 19).
    const sinceLastStarted = Date.now();
    const sinceLast = await timed('/v1/segments/recompute', 'recompute since the last one, a day later');
    // A full pass right after must find nothing left to change but what the seconds in between
    // changed: every profile it changes must have a fact that crossed a boundary meanwhile.
    const fullAfter = await timed('/v1/segments/recompute?full=true', 'full recompute right after it');
    const fullEnded = Date.now();
    const changedByFull = (await client.query(`select distinct profile_id from segmentation.membership_changes where at = (select max(at) from segmentation.membership_changes)`)).rows.map(
      (r: { profile_id: string }) => r.profile_id,
    );
    let unexplained = 0;
    if (fullAfter.entered + fullAfter.exited > 0) {
      const boundaries = [...new Map(created.flatMap((c) => timeBoundaries(c.definition)).map((b) => [JSON.stringify(b), b])).values()];
      const crossing = compileFactsCrossing(boundaries, tables.behaviourFacts, sinceLastStarted, fullEnded);
      const meanwhile = new Set(crossing ? (await client.query(crossing.text, crossing.values)).rows.map((r: { profile_id: string }) => r.profile_id) : []);
      unexplained = changedByFull.filter((id) => !meanwhile.has(id)).length;
    }
    const sinceLastAgain = await timed('/v1/segments/recompute', 'recompute since the last one, seconds later');
    print('');
    print(`| measure (${fmt(options.profiles)} profiles, ${fmt(options.profiles * options.factsPerProfile)} facts, 20 segments) | value | target |`);
    print('|---|---|---|');
    print(`| one statement per segment, count only (baseline, median of ${baseline.length}) | ${(median(baseline) / 1000).toFixed(2)} s | |`);
    print(
      `| recompute since the last one, a day later (${fmt(sinceLast.evaluated)} profiles evaluated), diffs logged and published | ${(sinceLast.ms / 1000).toFixed(2)} s (${fmt(sinceLast.entered)} entered, ${fmt(sinceLast.exited)} exited) | < 10 s |`,
    );
    print(`| recompute since the last one / baseline | ${((sinceLast.ms / median(baseline)) * 100).toFixed(0)} % | ≤ 25 % |`);
    print(
      `| full recompute right after (every profile) | ${(fullAfter.ms / 1000).toFixed(2)} s (${fmt(fullAfter.entered)} entered, ${fmt(fullAfter.exited)} exited, ${unexplained === 0 ? 'each by a fact that crossed a boundary since the pass before: nothing missed' : `${fmt(unexplained)} profiles NOT explained by time: MISSED`}) | |`,
    );
    print(`| full recompute / baseline | ${((fullAfter.ms / median(baseline)) * 100).toFixed(0)} % | |`);
    print(`| recompute since the last one, seconds later | ${(sinceLastAgain.ms / 1000).toFixed(2)} s | |`);
  } finally {
    await client.end().catch(() => undefined);
    await bench.stop();
    if (process.env.BENCH_LOG_DIR) writeFileSync(join(process.env.BENCH_LOG_DIR, 'bench-segmentation-recompute.log'), `${service.output.join('\n')}\n`);
  }
}
