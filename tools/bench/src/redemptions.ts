import { Client } from 'pg';
import { startBenchService } from './bench-service';
import { OFFERS_BENCH_ENV, runOffersLoad, type OffersLoadResult } from './offers';
import { fmt, median, print } from './report';
import { serviceApi } from './realtime';

export interface RedemptionsBenchOptions {
  natsUrl: string;
  postgresUrl?: string;
  runs: number;
  /** Length of each throughput run. */
  seconds: number;
  connections: number;
  /** Random customers the redemptions are for (ids only: an offer for everyone asks nothing else of them). */
  customers: number;
  /** The budget of the exhaustion phase, and the least its load lasts (longer when the throughput runs say it takes longer to use the budget up twice over). */
  smallBudget: number;
  smallSeconds: number;
}

/** A budget no run reaches: the throughput runs measure redemptions, not refusals. */
const LARGE_BUDGET = 1_000_000_000;

interface Phase {
  load: OffersLoadResult;
  /** 201 answers per second of the load. */
  rate: number;
  /** From the database after the load: the offer's budget and its redemptions that count. */
  budgetTotal: number;
  budgetUsed: number;
  redeemed: number;
  /** The stored answers to the phase's requests (redemption_requests) by status and problem. */
  answers: Array<{ status: number; problem: string | null; n: number }>;
}

const created = (load: OffersLoadResult) => load.statusCodes['201'] ?? 0;
const refusals = (load: OffersLoadResult) =>
  Object.entries(load.statusCodes)
    .filter(([code]) => code !== '201')
    .map(([code, n]) => `${fmt(n)} × ${code}`)
    .join(', ') || 'none';

/** Waits until no request since `since` is answered for 500 ms (at most 30 s). */
async function settled(client: Client, since: Date): Promise<void> {
  const answered = async () => (await client.query<{ n: number }>('select count(*)::int as n from offers.redemption_requests where created_at >= $1', [since])).rows[0].n;
  let last = -1;
  for (let waited = 0; waited < 30_000; waited += 500) {
    const n = await answered();
    if (n === last) return;
    last = n;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Redemptions (issue 18): POST /v1/redemptions at full speed from a separate process (each request
 * with an Idempotency-Key of its own, for a random customer) against an offer for everyone with a
 * budget of redemptions and no per-customer limit. Throughput runs use a budget they cannot reach,
 * each after the same offer without a budget (the baseline: what the budget's row costs); then a
 * phase under the same load against a small budget shows it stops exactly there. After each phase
 * the database says whether the budget held: the redemptions that count are
 * at most the budget and equal to the offer's budget_used.
 */
export async function benchRedemptions(options: RedemptionsBenchOptions): Promise<void> {
  if (!options.postgresUrl) {
    print('redemptions: skipped (needs a PostgreSQL server; set DATABASE_URL)');
    return;
  }
  const bench = await startBenchService({ app: 'offers', natsUrl: options.natsUrl, postgresUrl: options.postgresUrl, label: 'bench-red', env: OFFERS_BENCH_ENV });
  const { service, adminKey } = bench;
  const client = new Client({ connectionString: bench.databaseUrl });
  const phase = async (key: string, budget: number | null, seconds: number): Promise<Phase> => {
    await serviceApi(service, adminKey, 'POST', '/v1/offers', {
      key,
      name: `Bench redemptions ${key}`,
      description: '5 € off, for everyone',
      reward: { type: 'amount_off', amount: 500, currency: 'EUR' },
      placements: ['checkout'],
      startsAt: '2020-01-01T00:00',
      endsAt: null,
      timeZone: 'UTC',
      eligibility: {},
      budget: budget === null ? null : { type: 'redemptions', limit: budget },
      perCustomerLimit: null,
      coupons: { type: 'none' },
    });
    await serviceApi(service, adminKey, 'POST', `/v1/offers/${key}/status`, { status: 'active' });
    const since = (await client.query<{ t: Date }>('select clock_timestamp() as t')).rows[0].t;
    const load = await runOffersLoad(service.url, '/v1/redemptions', `Bearer ${adminKey}`, {
      connections: options.connections,
      seconds,
      profiles: options.customers,
      body: JSON.stringify({ offerKey: key, profileId: '{p}' }),
    });
    // autocannon stops at the deadline; the requests it left in flight still commit: count after them.
    await settled(client, since);
    const [offer] = (
      await client.query<{ total: string | null; used: string; redeemed: number }>(
        `select o.budget_total as total, o.budget_used as used,
                (select count(*)::int from offers.redemptions r where r.offer_id = o.id and r.status = 'redeemed') as redeemed
           from offers.offers o where o.key = $1`,
        [key],
      )
    ).rows;
    const answers = (
      await client.query<{ status: number; problem: string | null; n: number }>(
        `select status_code as status, response->'details'->0->>'problem' as problem, count(*)::int as n
           from offers.redemption_requests where created_at >= $1 group by 1, 2 order by 1, 2`,
        [since],
      )
    ).rows;
    return { load, rate: created(load) / load.durationSeconds, budgetTotal: offer.total === null ? Infinity : Number(offer.total), budgetUsed: Number(offer.used), redeemed: offer.redeemed, answers };
  };
  const held = (p: Phase) => p.redeemed <= p.budgetTotal && p.redeemed === p.budgetUsed;
  const answered = (p: Phase) => p.answers.map((a) => `${fmt(a.n)} × ${a.status}${a.problem ? ` (${a.problem})` : ''}`).join(', ');
  try {
    await client.connect();
    print('');
    print(
      `redemptions: POST /v1/redemptions from a separate process, ${options.connections} connections, an Idempotency-Key per request, ${fmt(options.customers)} random customers; an offer for everyone, no per-customer limit; ${options.runs} runs of ${options.seconds} s each without a budget, then with a budget of ${fmt(LARGE_BUDGET)}, then against a budget of ${fmt(options.smallBudget)} until twice that was offered (at least ${options.smallSeconds} s)`,
    );
    const runs: Phase[] = [];
    const unbudgeted: Phase[] = [];
    const line = (p: Phase) =>
      `${fmt(p.rate)} redemptions/s (${fmt(created(p.load))} × 201; refused: ${refusals(p.load)}; ${p.load.errors} errors, ${p.load.timeouts} timeouts), p50 ${p.load.latencyP50} ms, p99 ${p.load.latencyP99} ms; ` +
      `in the database ${fmt(p.redeemed)} redemptions, budget_used ${fmt(p.budgetUsed)}; stored answers: ${answered(p)}`;
    for (let run = 1; run <= options.runs; run += 1) {
      // The same offer without a budget first: what the budget's row (every redemption updates it) costs.
      unbudgeted.push(await phase(`bench-redeem-${run}-no-budget`, null, options.seconds));
      print(`  run ${run}, no budget (baseline): ${line(unbudgeted[unbudgeted.length - 1])}`);
      runs.push(await phase(`bench-redeem-${run}`, LARGE_BUDGET, options.seconds));
      print(`  run ${run}, budget of ${fmt(LARGE_BUDGET)}: ${line(runs[runs.length - 1])}`);
    }
    // Long enough to offer twice the budget at the measured rate, so that the phase ends refusing.
    const smallSeconds = Math.min(120, Math.max(options.smallSeconds, Math.ceil((2 * options.smallBudget) / Math.max(1, median(runs.map((p) => p.rate))))));
    const small = await phase('bench-redeem-small', options.smallBudget, smallSeconds);
    print(`  budget of ${fmt(options.smallBudget)} for ${smallSeconds} s: ${line(small)}`);
    const budgeted = [...runs, small];
    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| redemptions/s, 201 answers (median of ${runs.length} runs of ${options.seconds} s) | ${fmt(median(runs.map((p) => p.rate)))} | ≥ 1,000 sustained |`);
    print(`| the same offer without a budget (baseline, median) | ${fmt(median(unbudgeted.map((p) => p.rate)))} redemptions/s, p99 ${median(unbudgeted.map((p) => p.load.latencyP99))} ms | |`);
    print(`| p50 / p99 of POST /v1/redemptions (medians of the runs) | ${median(runs.map((p) => p.load.latencyP50))} / ${median(runs.map((p) => p.load.latencyP99))} ms | |`);
    print(
      `| refusals, errors in the throughput runs | ${fmt([...unbudgeted, ...runs].reduce((n, p) => n + p.load.notOk, 0))} not 2xx, ${fmt([...unbudgeted, ...runs].reduce((n, p) => n + p.load.errors, 0))} errors | 0 |`,
    );
    print(
      `| budget of ${fmt(options.smallBudget)} under the same load for ${smallSeconds} s: redemptions in the database / budget_used | ${fmt(small.redeemed)} / ${fmt(small.budgetUsed)} (${fmt(created(small.load))} × 201, ${fmt(small.load.notOk)} refused) | ${fmt(options.smallBudget)} / ${fmt(options.smallBudget)} |`,
    );
    print(`| never over budget (every phase with a budget: redemptions ≤ budget and = budget_used) | ${budgeted.every(held) ? 'yes' : 'no'} | yes |`);
    print(`| stops exactly at the budget (small budget: redemptions = budget) | ${small.redeemed === options.smallBudget ? 'yes' : 'no'} | yes |`);
  } finally {
    await client.end().catch(() => undefined);
    await bench.stop();
  }
}
