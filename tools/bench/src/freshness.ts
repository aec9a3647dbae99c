import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { JSONCodec, connect } from 'nats';
import { UNPROTECTED_ENV } from './bench-service';
import { OFFERS_BENCH_ENV } from './offers';
import { BATCH_SIZE, VIEWED_TODAY, paced, postJson, productView, serviceApi, startPipeline, type Pipeline } from './realtime';
import { fmt, percentile, print } from './report';

export interface FreshnessBenchOptions {
  natsUrl: string;
  postgresUrl: string | undefined;
  /** Background track calls per second (new visitors' product views) while the probes run. */
  rate: number;
  /** Seconds of background load before the first probe. */
  warmupSeconds: number;
  probes: number;
  /** Between the starts of two probes. */
  probeIntervalMs: number;
  /** Between a probe's polls of the offers API. */
  pollMs: number;
  /** No poll starts later after the track call: a probe not served by then counts as missing. */
  timeoutMs: number;
}

const TARGET_P99_MS = 500;

/** The probes' segment: a product put in the cart today. The background load (product views) never enters it. */
const ADDED_TODAY = { key: 'added-to-cart-today', name: 'Added a product to the cart today', definition: { event: 'Product Added', count: { op: 'gte', value: 1 }, within: 'P1D' } };
const OFFER_KEY = 'bench-fresh-cart';

interface Probe {
  /** From sending the track call to the first answer of the offers API with the segment's offer. */
  servedMs?: number;
  /** From sending the track call to its 2xx. */
  acceptedMs?: number;
  /** From sending the track call to segments.entered for the probe's profile on NATS. */
  enteredMs?: number;
  polls: number;
}

const spread = (values: number[]) =>
  values.length === 0 ? '–' : `${percentile(values, 50).toFixed(0)} / ${percentile(values, 95).toFixed(0)} / ${percentile(values, 99).toFixed(0)} / ${Math.max(...values).toFixed(0)} ms`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Offer freshness (issue 18): ingestion → profiles → segmentation → offers running, with paced
 * background traffic (each call a new visitor's product view). Each probe is a known customer's
 * track call (`Product Added`, by userId) that puts them into a segment; then the personalized
 * offers API (`GET /v1/customers/offers?userId=`) is polled until it serves that segment's offer.
 * Measured from sending the track call to the first answer with the offer.
 */
export async function benchFreshness(options: FreshnessBenchOptions): Promise<void> {
  if (!options.postgresUrl) {
    print('freshness: skipped (needs a PostgreSQL server; set DATABASE_URL)');
    return;
  }
  const nc = await connect({ servers: options.natsUrl });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const stopBackground = new AbortController();
  let pipeline: Pipeline | undefined;
  let background: Promise<number> | undefined;
  try {
    pipeline = await startPipeline({
      natsUrl: options.natsUrl,
      postgresUrl: options.postgresUrl,
      label: 'bench-fr',
      segments: [VIEWED_TODAY, ADDED_TODAY],
      more: [{ app: 'offers', env: OFFERS_BENCH_ENV }],
      env: UNPROTECTED_ENV,
    });
    const { ingestion, authorization, adminKey, prefix } = pipeline;
    const offers = pipeline.services[3];
    await serviceApi(offers, adminKey, 'POST', '/v1/offers', {
      key: OFFER_KEY,
      name: 'Complete your order: 10 % off',
      description: 'For customers with something in the cart',
      reward: { type: 'percent_off', percent: 10 },
      placements: ['home_banner', 'checkout'],
      startsAt: '2020-01-01T00:00',
      endsAt: null,
      timeZone: 'UTC',
      eligibility: { segments: { anyOf: [ADDED_TODAY.key] } },
      coupons: { type: 'none' },
    });
    await serviceApi(offers, adminKey, 'POST', `/v1/offers/${OFFER_KEY}/status`, { status: 'active' });

    const codec = JSONCodec<{ data: { profileId: string; segmentKey?: string } }>();
    const enteredAt = new Map<string, number>();
    const entered = nc.subscribe(`${prefix}.segments.entered`);
    void (async () => {
      for await (const msg of entered) {
        const { data } = codec.decode(msg.data);
        if (data.segmentKey === ADDED_TODAY.key) enteredAt.set(data.profileId, performance.now());
      }
    })();

    print('');
    print(
      `freshness: ${fmt(options.rate)} track calls/s of background (new visitors' product views) through ingestion → profiles → segmentation → offers; after ${options.warmupSeconds} s, ${options.probes} probes ${options.probeIntervalMs} ms apart: ` +
        `a customer's track call (Product Added, by userId) that puts them into "${ADDED_TODAY.key}", then GET /v1/customers/offers?userId= every ${options.pollMs} ms until the segment's offer is served (no poll after ${options.timeoutMs / 1000} s)`,
    );
    let backgroundFailures = 0;
    let backgroundFailure = '';
    const backgroundCall = () =>
      postJson(agent, `${ingestion.url}/v1/batch`, authorization, JSON.stringify({ batch: Array.from({ length: BATCH_SIZE }, productView) })).catch((error: unknown) => {
        backgroundFailures += 1;
        backgroundFailure = (error as Error).message;
      });
    // Far more than the probes need: the background stops when the last probe ends.
    background = paced(options.rate, options.rate * 3600, backgroundCall, stopBackground.signal);
    // Awaited after the probes; a failure meanwhile must not end the process as an unhandled rejection.
    background.catch(() => undefined);
    await sleep(options.warmupSeconds * 1000);

    const runTag = randomUUID().slice(0, 8);
    const profileOf = new Map<Probe, string>();
    const probe = async (i: number): Promise<Probe> => {
      const userId = `fresh-${runTag}-${i}`;
      const result: Probe = { polls: 0 };
      const sent = performance.now();
      const call = { type: 'track', event: 'Product Added', userId, messageId: randomUUID(), properties: { category: 'cameras', price: 199 }, timestamp: new Date().toISOString() };
      await postJson(agent, `${ingestion.url}/v1/track`, authorization, JSON.stringify(call));
      result.acceptedMs = performance.now() - sent;
      const url = `${offers.url}/v1/customers/offers?userId=${encodeURIComponent(userId)}&placement=home_banner`;
      while (performance.now() - sent < options.timeoutMs) {
        result.polls += 1;
        const response = await fetch(url, { headers: { authorization: `Bearer ${adminKey}` } });
        const at = performance.now();
        if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
        const answer = (await response.json()) as { profileId: string | null; offers: Array<{ key: string }> };
        if (answer.profileId) profileOf.set(result, answer.profileId);
        if (answer.offers.some((o) => o.key === OFFER_KEY)) {
          result.servedMs = at - sent;
          break;
        }
        await sleep(options.pollMs);
      }
      const profileId = profileOf.get(result);
      const seen = profileId === undefined ? undefined : enteredAt.get(profileId);
      if (seen !== undefined) result.enteredMs = seen - sent;
      return result;
    };
    const running: Array<Promise<Probe>> = [];
    const started = performance.now();
    for (let i = 0; i < options.probes; i += 1) {
      const wait = started + i * options.probeIntervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      running.push(probe(i));
    }
    const probes = await Promise.all(running);
    stopBackground.abort();
    const offered = await background;
    background = undefined;
    entered.unsubscribe();

    const served = probes.flatMap((p) => (p.servedMs === undefined ? [] : [p.servedMs]));
    const p99 = served.length > 0 ? percentile(served, 99) : Infinity;
    print('');
    print('| measure | value | target |');
    print('|---|---|---|');
    print(`| background offered, during warm-up and probes | ${fmt(offered)} track calls/s | ${fmt(options.rate)} |`);
    print(`| background batches not accepted | ${fmt(backgroundFailures)}${backgroundFailure ? ` (last: ${backgroundFailure.slice(0, 160)})` : ''} | 0 |`);
    print(`| probes served their segment's offer | ${served.length} of ${probes.length} (no poll started after ${options.timeoutMs / 1000} s) | all |`);
    print(`| track call sent → offer served: p50 / p95 / p99 / max | ${spread(served)} | p99 < ${TARGET_P99_MS} ms |`);
    print(`| of which track call sent → 2xx from ingestion | ${spread(probes.flatMap((p) => (p.acceptedMs === undefined ? [] : [p.acceptedMs])))} | |`);
    print(`| of which track call sent → segments.entered on NATS | ${spread(probes.flatMap((p) => (p.enteredMs === undefined ? [] : [p.enteredMs])))} | |`);
    print(
      `| polls per probe (every ${options.pollMs} ms after the track call's 2xx): median / max | ${percentile(
        probes.map((p) => p.polls),
        50,
      )} / ${Math.max(...probes.map((p) => p.polls))} | |`,
    );
    print(`| freshness p99 under ${TARGET_P99_MS} ms with every probe served | ${served.length === probes.length && p99 < TARGET_P99_MS ? 'yes' : 'no'} | yes |`);
  } finally {
    stopBackground.abort();
    await background?.catch(() => undefined);
    agent.destroy();
    await nc.close();
    await pipeline?.stop();
  }
}
