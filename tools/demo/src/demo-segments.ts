import { randomUUID } from 'node:crypto';
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
    definition: { all: [{ trait: 'country', op: 'in', value: ['DE', 'AT', 'CH'] }, { feature: 'orders', op: 'gte', value: 1 }] },
  },
];

const CATEGORIES = ['cameras', 'lenses', 'audio', 'books', 'garden'];
const COUNTRIES = ['DE', 'AT', 'FR', 'NL', 'US'];

/** A small seeded crowd of shoppers, so segments have sizes worth reading: Segment-spec calls. */
export function crowdCalls(customers: number, seed: number, now = Date.now()): Array<Record<string, unknown>> {
  let state = seed;
  const rnd = () => ((state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const pick = <T>(values: T[]) => values[Math.floor(rnd() * values.length)];
  const calls: Array<Record<string, unknown>> = [];
  const run = randomUUID().slice(0, 6);
  for (let c = 0; c < customers; c += 1) {
    const userId = `demo-shopper-${run}-${c}`;
    const favourite = pick(CATEGORIES);
    const daysAgo = () => Math.floor(rnd() * 90);
    const at = (days: number) => new Date(now - days * 86_400_000 - Math.floor(rnd() * 3_600_000)).toISOString();
    calls.push({ type: 'identify', messageId: randomUUID(), userId, traits: { email: `${userId}@example.com`, country: pick(COUNTRIES) }, timestamp: at(90) });
    const views = 1 + Math.floor(rnd() * 4);
    const recent = rnd() < 0.5;
    for (let v = 0; v < views; v += 1) {
      calls.push({ type: 'track', messageId: randomUUID(), userId, event: 'Product Viewed', properties: { category: favourite, price: 20 + Math.floor(rnd() * 800) }, timestamp: at(recent ? Math.floor(rnd() * 6) : daysAgo()) });
    }
    const orders = rnd() < 0.6 ? 1 + Math.floor(rnd() * 4) : 0;
    for (let o = 0; o < orders; o += 1) {
      const price = 20 + Math.floor(rnd() * 600);
      calls.push({ type: 'track', messageId: randomUUID(), userId, event: 'Order Completed', properties: { order_id: randomUUID(), revenue: price, currency: 'EUR', products: [{ category: favourite, price, quantity: 1 }] }, timestamp: at(daysAgo()) });
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
  const crowd = crowdCalls(40, 7);
  for (let i = 0; i < crowd.length; i += 100) {
    const response = await fetch(`${ingestion.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
      body: JSON.stringify({ batch: crowd.slice(i, i + 100) }),
    });
    if (response.status !== 200) throw new Error(`sending the crowd failed with ${response.status}: ${await response.text()}`);
  }
  print(`  40 more shoppers sent as ${crowd.length} calls through POST /v1/batch`);
  const lastCall = crowd[crowd.length - 1].messageId as string;
  await waitFor(async () => (await fetch(`${profiles.url}/v1/events/${lastCall}`, { headers: admin })).status === 200, { timeoutMs: 30000, what: 'the crowd in profiles' });
  // RFM scores are population quintiles: refresh them now rather than at the next scheduled run.
  await fetch(`${profiles.url}/v1/features/recompute`, { method: 'POST', headers: admin, body: JSON.stringify({ mode: 'refresh' }) });

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
  print(`  ${segments.length} segments (GET ${segmentation.url}/v1/segments):`);
  for (const kind of ['rule', 'rfm', 'lifecycle']) {
    const ofKind = segments.filter((s) => s.kind === kind).sort((a, b) => b.size - a.size);
    if (ofKind.length === 0) continue;
    print(`    ${kind === 'rule' ? 'rules' : kind === 'rfm' ? 'RFM grid' : 'lifecycle'}`);
    for (const s of ofKind) print(`      ${s.key.padEnd(24)} ${String(s.size).padStart(5)}  ${s.name}${s.freshness.target === 'scheduled' ? '  (time-based: recomputed on schedule)' : ''}`);
  }
  print(`  the customer is in: ${mine.join(', ')}`);
  return { segments: segments.map((s) => ({ key: s.key, size: s.size })), customerSegments: mine };
}
