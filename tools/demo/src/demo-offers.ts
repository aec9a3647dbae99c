import { waitFor, type ServiceProcess } from '@segmenta/infra';

/** What the offers step shows: the offer, one redemption and the refused second use of its code. */
export interface DemoOffers {
  offerKey: string;
  codes: number;
  reasons: string[];
  redemption: { id: string; code: string; rewardValue: number | null; currency: string | null };
  secondUse: { status: number; problem: string | undefined };
}

/** What the demo reads of the answers: an error's details and message, a pool's counts, a redemption's reward. */
interface Answer {
  id?: string;
  message?: string;
  details?: Array<{ field: string; problem: string }>;
  counts?: { available: number };
  reward?: { value: number | null; currency: string | null };
}

export async function call(
  offers: ServiceProcess,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Answer | undefined }> {
  const response = await fetch(`${offers.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Answer) : undefined };
}

/** A call that must answer `expected`; its body. */
export async function expectStatus<T = Answer>(offers: ServiceProcess, key: string, expected: number, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  const answer = await call(offers, key, method, path, body, headers);
  if (answer.status !== expected) throw new Error(`${method} ${path} answered ${answer.status} (expected ${expected}): ${JSON.stringify(answer.body)}`);
  return answer.body as T;
}

/** Today's date where the shop is, as the offer's local start (the window is in the shop's time zone). */
function localDate(timeZone: string, plusDays = 0): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + plusDays * 86_400_000));
}

/**
 * A loyalty team's first offer: "10% off cameras" for the camera-intent segment, with a pool of
 * unique codes, each redeemable once; the customer redeems a code at checkout and a second use
 * of that code is refused.
 */
export async function showOffers(options: { offers: ServiceProcess; adminKey: string; customerProfileId: string; userId: string; print: (line: string) => void }): Promise<DemoOffers> {
  const { offers, adminKey, customerProfileId, userId, print } = options;
  const offerKey = 'camera-fans-10';
  const timeZone = 'Europe/Berlin';
  await expectStatus(offers, adminKey, 201, 'POST', '/v1/offers', {
    key: offerKey,
    name: '10% off cameras',
    description: 'Camera fans get 10% off any camera this month.',
    reward: { type: 'percent_off', percent: 10 },
    categories: ['cameras'],
    placements: ['checkout', 'app_inbox'],
    priority: 10,
    startsAt: `${localDate(timeZone)}T00:00`,
    endsAt: `${localDate(timeZone, 30)}T23:59`,
    timeZone,
    eligibility: { segments: { anyOf: ['camera-intent'] } },
    budget: { type: 'redemptions', limit: 500 },
    coupons: { type: 'unique' },
  });
  const pool = await expectStatus<{ counts: { available: number } }>(offers, adminKey, 201, 'POST', `/v1/offers/${offerKey}/codes`, {
    generate: { count: 500, prefix: 'CAM10-', length: 8 },
    idempotencyKey: 'demo-pool-1',
  });
  await expectStatus(offers, adminKey, 200, 'POST', `/v1/offers/${offerKey}/status`, { status: 'active' });
  print(`  offer "${offerKey}": 10% off cameras for segment camera-intent, ${pool.counts.available} unique codes (each redeemable once), active (POST ${offers.url}/v1/offers)`);
  // The shop's app asks for the customer's offers at checkout, by the user id it knows (scope personalize in production).
  type Served = { offers: Array<{ key: string; reasons: string[]; coupon: { type: string; code: string } | null }> };
  let served: Served | undefined;
  await waitFor(
    async () => {
      served = await expectStatus<Served>(offers, adminKey, 200, 'GET', `/v1/customers/offers?userId=${encodeURIComponent(userId)}&placement=checkout`);
      return served.offers.some((o) => o.key === offerKey);
    },
    { timeoutMs: 15_000, what: `${offerKey} among ${userId}'s offers` },
  );
  const offer = (served as Served).offers.find((o) => o.key === offerKey) as Served['offers'][number];
  const code = offer.coupon?.code as string;
  print(`  the app asks GET ${offers.url}/v1/customers/offers?userId=${userId}&placement=checkout:`);
  print(`    ${offerKey}  because: ${offer.reasons.join('; ')}  code ${code} (reserved for this customer)`);
  const order = { offerKey, profileId: customerProfileId, code, orderId: 'demo-order-2', orderAmount: { amount: 89_900, currency: 'EUR' } };
  const redemption = await expectStatus<{ id: string; reward: { value: number | null; currency: string | null } }>(offers, adminKey, 201, 'POST', '/v1/redemptions', order, {
    'idempotency-key': 'demo-checkout-1',
  });
  const value = redemption.reward.value;
  print(
    `  checkout: the customer redeems ${code} on a 899.00 EUR camera order → ${value === null ? 'no money value' : `${(value / 100).toFixed(2)} ${String(redemption.reward.currency)} off`} (redemption ${String(redemption.id)})`,
  );
  const again = await call(offers, adminKey, 'POST', '/v1/redemptions', { ...order, orderId: 'demo-order-3' }, { 'idempotency-key': 'demo-checkout-2' });
  const problem = again.body?.details?.map((d) => d.problem).join(', ');
  print(`  a second use of ${code} is refused: ${again.status} ${problem ?? String(again.body?.message)}`);
  return {
    offerKey,
    codes: pool.counts.available,
    reasons: offer.reasons,
    redemption: { id: String(redemption.id), code, rewardValue: value, currency: redemption.reward.currency },
    secondUse: { status: again.status, problem },
  };
}
