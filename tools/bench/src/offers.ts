import type { LoadSummary } from './autocannon-summary';
import { Client } from 'pg';
import { UNPROTECTED_ENV, startBenchService } from './bench-service';
import { runLoadProcess } from './load-process';
import { fmt, median, print } from './report';
import { serviceApi } from './realtime';

export interface OffersBenchOptions {
  natsUrl: string;
  postgresUrl?: string;
  runs: number;
  seconds: number;
  connections: number;
  offers: number;
  segments: number;
  profiles: number;
  segmentsPerProfile: number;
}

/** With `distinctFrom`: the next seeded id the load did not ask for. */
export type OffersLoadResult = LoadSummary & { nextDistinct?: number };

/**
 * offers-load.js from a separate process: GETs of `path`, or POSTs of `body` with an Idempotency-Key each; `{p}` a random one of `profiles`
 * seeded ids, or with `distinctFrom` seeded ids from that one up, each once.
 */
export function runOffersLoad(
  url: string,
  path: string,
  authorization: string,
  load: { connections: number; seconds: number; profiles: number; body?: string; rate?: number; distinctFrom?: number },
): Promise<OffersLoadResult> {
  return runLoadProcess<OffersLoadResult>('offers-load.js', [
    url,
    path,
    authorization,
    String(load.connections),
    String(load.seconds),
    String(load.profiles),
    ...(load.body === undefined ? [] : [`--body=${load.body}`]),
    ...(load.rate === undefined ? [] : [`--rate=${load.rate}`]),
    ...(load.distinctFrom === undefined ? [] : [`--distinct-from=${load.distinctFrom}`]),
  ]);
}

const PERSONALIZED_PATH = '/v1/customers/{p}/offers?placement=home_banner&limit=10';

/** The offers service of a bench part: no scheduled status moves, and measured, not protected. */
export const OFFERS_BENCH_ENV = { OFFERS_SCHEDULE_CRON: '0 0 1 1 *', ...UNPROTECTED_ENV };

/**
 * The personalized offers API (issue 18): `offers` offers, each for two of `segments` segments,
 * and `profiles` × `segmentsPerProfile` memberships seeded into offers' read model; load from a
 * separate process on GET /v1/customers/:id/offers for random seeded customers, against the same
 * app's GET /health (a hello-world route) in the same run.
 */
export async function benchOffers(options: OffersBenchOptions): Promise<void> {
  if (!options.postgresUrl) {
    print('offers: skipped (needs a PostgreSQL server; set DATABASE_URL)');
    return;
  }
  const bench = await startBenchService({
    app: 'offers',
    natsUrl: options.natsUrl,
    postgresUrl: options.postgresUrl,
    label: 'bench-off',
    env: OFFERS_BENCH_ENV,
  });
  const { service, adminKey } = bench;
  const client = new Client({ connectionString: bench.databaseUrl });
  try {
    const segmentKey = (s: number) => `bench-seg-${s}`;
    for (let i = 0; i < options.offers; i += 1) {
      const key = `bench-offer-${i}`;
      await serviceApi(service, adminKey, 'POST', '/v1/offers', {
        key,
        name: `Offer ${i}`,
        description: 'Bench offer',
        reward: i % 2 === 0 ? { type: 'percent_off', percent: 5 + (i % 20) } : { type: 'amount_off', amount: 500 + i * 10, currency: 'EUR' },
        placements: ['home_banner', 'checkout'],
        priority: i % 10,
        startsAt: '2020-01-01T00:00',
        endsAt: null,
        timeZone: 'UTC',
        eligibility: { segments: { anyOf: [segmentKey((2 * i) % options.segments), segmentKey((2 * i + 1) % options.segments)] } },
        coupons: { type: 'none' },
      });
      await serviceApi(service, adminKey, 'POST', `/v1/offers/${key}/status`, { status: 'active' });
    }
    await client.connect();
    const seedStarted = performance.now();
    // Each customer in `segmentsPerProfile` distinct segments (steps of 41 stay distinct below 200/41).
    await client.query(
      `insert into offers.membership_view (segment_id, segment_key, profile_id, member, seq)
       select ('10000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid, 'bench-seg-' || s, ('00000000-0000-4000-8000-' || lpad(p::text, 12, '0'))::uuid, true, p * $3 + k + 1
       from generate_series(0, $1 - 1) p, generate_series(0, $3 - 1) k, lateral (select (p * 7 + k * 41) % $2 as s) x`,
      [options.profiles, options.segments, options.segmentsPerProfile],
    );
    await client.query('vacuum analyze offers.membership_view');
    const memberships = (await client.query('select count(*)::int as n from offers.membership_view')).rows[0].n as number;
    print('');
    print(
      `offers: ${options.offers} offers, ${options.segments} segments, ${fmt(memberships)} memberships of ${fmt(options.profiles)} customers seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s; ${options.connections} connections, ${options.seconds} s per run`,
    );
    const authorization = `Bearer ${adminKey}`;
    const hello: OffersLoadResult[] = [];
    const personalized: OffersLoadResult[] = [];
    const paced: Array<OffersLoadResult & { rate: number }> = [];
    for (let run = 1; run <= options.runs; run += 1) {
      hello.push(await runOffersLoad(service.url, '/health', authorization, options));
      personalized.push(await runOffersLoad(service.url, PERSONALIZED_PATH, authorization, options));
      // The latency a customer sees at half the capacity just measured (saturated, it is only queueing).
      const half = Math.round(personalized[personalized.length - 1].requestsPerSecond / 2);
      paced.push({ rate: half, ...(await runOffersLoad(service.url, PERSONALIZED_PATH, authorization, { ...options, rate: half })) });
      const [h, p, q] = [hello[hello.length - 1], personalized[personalized.length - 1], paced[paced.length - 1]];
      print(
        `  run ${run}: GET /health ${fmt(h.requestsPerSecond)} req/s (p99 ${h.latencyP99} ms); personalized offers ${fmt(p.requestsPerSecond)} req/s, p50 ${p.latencyP50} ms, p99 ${p.latencyP99} ms, ${fmt(p.notOk)} not 2xx, ${p.errors} errors; paced at ${fmt(q.rate)} req/s: p50 ${q.latencyP50} ms, p99 ${q.latencyP99} ms`,
      );
    }
    const rps = median(personalized.map((r) => r.requestsPerSecond));
    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| GET /health of the same app (baseline, median of ${options.runs}) | ${fmt(median(hello.map((r) => r.requestsPerSecond)))} req/s | |`);
    print(`| GET /v1/customers/:id/offers (median) | ${fmt(rps)} req/s | ≥ 5,000 |`);
    print(`| its p99 at full load, ${options.connections} connections (median of the runs) | ${median(personalized.map((r) => r.latencyP99))} ms | < 20 ms |`);
    print(
      `| its p50 / p99 paced at half that rate (${fmt(median(paced.map((r) => r.rate)))} req/s, median of the runs) | ${median(paced.map((r) => r.latencyP50))} / ${median(paced.map((r) => r.latencyP99))} ms | p99 < 20 ms |`,
    );
    print(`| personalized / hello world | ${((rps / median(hello.map((r) => r.requestsPerSecond))) * 100).toFixed(0)} % | ≥ 50 % |`);
  } finally {
    await client.end().catch(() => undefined);
    await bench.stop();
  }
}
