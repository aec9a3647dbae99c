import { randomUUID } from 'node:crypto';
import { beta, exponential, gamma, seededRandom } from '@segmenta/analytics';
import { waitFor, type ServiceProcess } from '@segmenta/infra';

/** Two rule segments a loyalty team would start with, next to the built-in RFM grid and lifecycle stages. */
export const DEMO_SEGMENTS = [
  {
    key: 'camera-intent',
    name: 'Camera intent',
    description: 'Viewed cameras at least twice in the last 7 days',
    definition: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 2 }, within: 'P7D' },
  },
  {
    key: 'dach-buyers',
    name: 'DACH buyers',
    description: 'Customers in Germany, Austria or Switzerland with an order',
    definition: {
      all: [
        { trait: 'country', op: 'in', value: ['DE', 'AT', 'CH'] },
        { feature: 'orders', op: 'gte', value: 1 },
      ],
    },
  },
];

/** Enough shoppers with orders for the customer models and for discovering segments (at least 50 buyers). */
const CROWD = 120;

const COUNTRIES = ['DE', 'AT', 'FR', 'NL', 'US'];

/**
 * Who the crowd is made of: buying as BG/NBD says (a weekly purchase rate while active, dropping out
 * after a purchase with some probability), with their own baskets and categories.
 */
const PERSONAS = [
  { share: 0.15, rate: [6, 12], dropout: [1, 25], price: [200, 900], categories: ['cameras', 'lenses'] },
  { share: 0.35, rate: [3, 14], dropout: [1, 5], price: [30, 200], categories: ['books', 'audio'] },
  { share: 0.3, rate: [0, 1], dropout: [1, 1], price: [20, 150], categories: ['garden', 'books', 'audio'] },
  { share: 0.2, rate: null, dropout: [1, 1], price: [0, 0], categories: ['cameras', 'audio', 'garden'] },
] as const;

/** A seeded crowd of shoppers over the last year, so segments and models have something to read: Segment-spec calls. */
export function crowdCalls(customers: number, seed: number, now = Date.now()): Array<Record<string, unknown>> {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
  const calls: Array<Record<string, unknown>> = [];
  const run = randomUUID().slice(0, 6);
  const DAY = 86_400_000;
  const at = (ms: number) => new Date(Math.min(now - 60_000, ms)).toISOString();
  for (let c = 0; c < customers; c += 1) {
    const userId = `demo-shopper-${run}-${c}`;
    let r = random();
    const persona = PERSONAS.find((p) => (r -= p.share) < 0) ?? PERSONAS[PERSONAS.length - 1];
    const favourite = pick(persona.categories);
    const firstSeen = now - (10 + Math.floor(random() * 355)) * DAY;
    calls.push({ type: 'identify', messageId: randomUUID(), userId, traits: { email: `${userId}@example.com`, country: pick(COUNTRIES) }, timestamp: at(firstSeen) });
    // Product views: half of the crowd browsed this week.
    const recent = random() < 0.5;
    for (let v = 1 + Math.floor(random() * 4); v > 0; v -= 1) {
      const when = recent ? now - Math.floor(random() * 6 * DAY) : firstSeen + random() * (now - firstSeen);
      calls.push({ type: 'track', messageId: randomUUID(), userId, event: 'Product Viewed', properties: { category: favourite, price: 20 + Math.floor(random() * 800) }, timestamp: at(when) });
    }
    if (!persona.rate) continue; // browsers only
    const weekly = persona.rate[0] > 0 ? gamma(random, persona.rate[0], persona.rate[1]) : 0;
    const dropout = beta(random, persona.dropout[0], persona.dropout[1]);
    for (let t = firstSeen, first = true; t < now; first = false) {
      const price = persona.price[0] + Math.floor(random() * (persona.price[1] - persona.price[0]));
      calls.push({
        type: 'track',
        messageId: randomUUID(),
        userId,
        event: 'Order Completed',
        properties: { order_id: randomUUID(), revenue: price, currency: 'EUR', products: [{ category: favourite, price, quantity: 1 }] },
        timestamp: at(t),
      });
      if (weekly === 0 || (!first && random() < dropout)) break;
      t += exponential(random, weekly) * 7 * DAY;
    }
  }
  return calls;
}

interface SegmentSummary {
  key: string;
  name: string;
  kind: string;
  size: number;
  freshness: { target: string };
}

/**
 * Creates the demo's rule segments (kept when they exist from an earlier run), sends the crowd,
 * refreshes RFM quintiles, waits until the customer is placed and the sizes settle, and prints them.
 */
export async function showSegments(options: {
  segmentation: ServiceProcess;
  ingestion: ServiceProcess;
  profiles: ServiceProcess;
  adminKey: string;
  writeKey: string;
  customerProfileId: string;
  print: (line: string) => void;
}): Promise<{ segments: Array<{ key: string; size: number }>; customerSegments: string[] }> {
  const { segmentation, ingestion, profiles, adminKey, writeKey, print } = options;
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` };
  for (const segment of DEMO_SEGMENTS) {
    const response = await fetch(`${segmentation.url}/v1/segments`, { method: 'POST', headers: admin, body: JSON.stringify(segment) });
    if (response.status !== 201 && response.status !== 409) throw new Error(`creating segment ${segment.key} failed with ${response.status}: ${await response.text()}`);
  }
  const crowd = crowdCalls(CROWD, 7);
  for (let i = 0; i < crowd.length; i += 100) {
    const response = await fetch(`${ingestion.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
      body: JSON.stringify({ batch: crowd.slice(i, i + 100) }),
    });
    if (response.status !== 200) throw new Error(`sending the crowd failed with ${response.status}: ${await response.text()}`);
  }
  print(`  ${CROWD} more shoppers sent as ${crowd.length} calls through POST /v1/batch`);
  // Every call, not the last one: profiles applies batches two at a time, so the last stored is not the last applied
  // (the models were fitted on 44 of 101 buyers when only the last call was awaited).
  let missing = crowd.map((call) => call.messageId as string);
  await waitFor(
    async () => {
      const stillMissing: string[] = [];
      for (let i = 0; i < missing.length; i += 50) {
        const chunk = missing.slice(i, i + 50);
        const found = await Promise.all(chunk.map(async (id) => (await fetch(`${profiles.url}/v1/events/${id}`, { headers: admin })).status === 200));
        stillMissing.push(...chunk.filter((_, j) => !found[j]));
      }
      missing = stillMissing;
      return missing.length === 0;
    },
    { timeoutMs: 60000, intervalMs: 250, what: 'the whole crowd in profiles' },
  );
  // RFM scores are population quintiles: refresh them now rather than at the next scheduled run.
  await fetch(`${profiles.url}/v1/features/recompute`, { method: 'POST', headers: admin, body: JSON.stringify({ mode: 'refresh' }) });
  // The customer models move lifecycle stages (P(alive)): fit them before any size is printed, so each figure is printed once, final.
  const post = async <T>(url: string, body: unknown = {}): Promise<T> => {
    const response = await fetch(url, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    if (response.status !== 200) throw new Error(`POST ${url} failed with ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  const fit = await post<{ models: Array<{ name: string; params: Record<string, number>; customers: number; logLikelihood: number }>; changed: number }>(`${profiles.url}/v1/models/fit`);
  const bgnbd = fit.models.find((m) => m.name === 'bgnbd');
  if (bgnbd)
    print(
      `  BG/NBD fitted on ${bgnbd.customers} customers (r ${bgnbd.params.r.toFixed(2)}, α ${bgnbd.params.alpha.toFixed(2)}, a ${bgnbd.params.a.toFixed(2)}, b ${bgnbd.params.b.toFixed(2)}): P(alive), expected orders and CLV refreshed for ${fit.changed} profiles  (POST ${profiles.url}/v1/models/fit)`,
    );

  const list = async () => (await (await fetch(`${segmentation.url}/v1/segments`, { headers: admin })).json()) as SegmentSummary[];
  const customerSegments = async () =>
    ((await (await fetch(`${segmentation.url}/v1/profiles/${options.customerProfileId}/segments`, { headers: admin })).json()) as { segments: Array<{ key: string }> }).segments.map((s) => s.key);
  await waitFor(async () => (await customerSegments()).includes('camera-intent') && (await customerSegments()).some((k) => k.startsWith('rfm-')), {
    timeoutMs: 30000,
    what: 'the customer in camera-intent and the RFM grid',
  });
  // Sizes settle once segmentation has caught up with the refresh.
  let previous = '';
  let segments: SegmentSummary[] = [];
  await waitFor(
    async () => {
      segments = await list();
      const now = JSON.stringify(segments.map((s) => s.size));
      const settled = now === previous;
      previous = now;
      return settled;
    },
    { timeoutMs: 30000, intervalMs: 1000, what: 'segment sizes to settle' },
  );
  const mine = await customerSegments();
  const kinds = ['rule', 'rfm', 'lifecycle'] as const;
  const listed = segments.filter((s) => (kinds as readonly string[]).includes(s.kind));
  // The header counts what is listed below.
  print(`  ${listed.length} segments (GET ${segmentation.url}/v1/segments):`);
  print(`      ${'key'.padEnd(24)} ${'members'.padStart(7)}  name`);
  for (const kind of kinds) {
    const ofKind = listed.filter((s) => s.kind === kind).sort((a, b) => b.size - a.size);
    if (ofKind.length === 0) continue;
    print(`    ${kind === 'rule' ? 'rules' : kind === 'rfm' ? 'RFM grid' : 'lifecycle'}`);
    for (const s of ofKind) print(`      ${s.key.padEnd(24)} ${String(s.size).padStart(7)}  ${s.name}${s.freshness.target === 'scheduled' ? '  (time-based: recomputed on schedule)' : ''}`);
  }
  print(`  the customer is in: ${mine.join(', ')}`);
  return { segments: segments.map((s) => ({ key: s.key, size: s.size })), customerSegments: mine };
}

interface KpiSnapshot {
  key: string;
  metrics: { size: number; revenueShare: number; conversionRate: number | null; aov: number | null; repeatPurchaseRate: number | null; meanClv: number | null; churnRate: number | null };
}

/**
 * Fits the customer models in profiles (P(alive), expected orders, CLV), discovers micro-segments
 * with persona cards in segmentation, and prints segment KPIs.
 */
export async function showAnalytics(options: {
  segmentation: ServiceProcess;
  profiles: ServiceProcess;
  adminKey: string;
  print: (line: string) => void;
}): Promise<{ clusters: string[]; kpis: KpiSnapshot[] }> {
  const { segmentation, profiles, adminKey, print } = options;
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` };
  const post = async <T>(url: string, body: unknown = {}): Promise<T> => {
    const response = await fetch(url, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    if (response.status !== 200) throw new Error(`POST ${url} failed with ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  const discovery = await post<{ k: number; customers: number; segments: Array<{ key: string; name: string; size: number; persona: { revenueShare: number; treatment: { text: string } } }> }>(
    `${segmentation.url}/v1/segments/discover`,
    { kMin: 3, kMax: 6 },
  );
  print(`  discovered ${discovery.k} micro-segments among ${discovery.customers} customers with orders (POST ${segmentation.url}/v1/segments/discover):`);
  for (const s of [...discovery.segments].sort((a, b) => b.size - a.size)) {
    print(`    ${s.name.padEnd(46)} ${String(s.size).padStart(4)} customers, ${(s.persona.revenueShare * 100).toFixed(0).padStart(3)} % of revenue → ${s.persona.treatment.text}`);
  }

  // CLV reaches segmentation's read model through profiles.updated: snapshot once it has.
  let snapshot: { segments: KpiSnapshot[] } = { segments: [] };
  await waitFor(
    async () => {
      snapshot = await post<{ segments: KpiSnapshot[] }>(`${segmentation.url}/v1/segments/kpis`);
      return snapshot.segments.some((s) => s.metrics.meanClv !== null);
    },
    { timeoutMs: 30000, intervalMs: 1000, what: 'CLV in the segment KPIs' },
  );
  const shown = snapshot.segments.filter((s) => s.metrics.size > 0 && (s.key.startsWith('cluster-') || DEMO_SEGMENTS.some((d) => d.key === s.key)));
  // Money in minor units of profiles' base currency: the one demo.ts starts profiles with.
  const currency = process.env.BASE_CURRENCY ?? 'EUR';
  const pct = (v: number | null, width: number) => (v === null ? '–' : `${(v * 100).toFixed(0)} %`).padStart(width);
  const money = (v: number | null, width: number) => (v === null ? '–' : `${(v / 100).toFixed(2)} ${currency}`).padStart(width);
  const columns: Array<[string, number]> = [
    ['customers', 9],
    ['share of revenue', 16],
    ['ordered in 30 days', 18],
    ['average order', 14],
    ['repeat buyers', 13],
    ['mean CLV', 14],
    ['lapsed', 7],
  ];
  print(`  segment KPIs (POST ${segmentation.url}/v1/segments/kpis, history at GET /v1/segments/:key/kpis):`);
  print(`    ${'segment'.padEnd(50)} ${columns.map(([name, width]) => name.padStart(width)).join(' ')}`);
  for (const s of shown) {
    const m = s.metrics;
    const cells = [String(m.size), pct(m.revenueShare, 0), pct(m.conversionRate, 0), money(m.aov, 0), pct(m.repeatPurchaseRate, 0), money(m.meanClv, 0), pct(m.churnRate, 0)];
    print(`    ${s.key.padEnd(50)} ${cells.map((c, i) => c.padStart(columns[i][1])).join(' ')}`);
  }
  print(`    (mean CLV: expected revenue over profiles' CLV_MONTHS, 12 by default, times CLV_MARGIN, 1, discounted by CLV_MONTHLY_DISCOUNT, 1 % a month)`);
  return { clusters: discovery.segments.map((s) => s.key), kpis: shown };
}
