import { fuzzSuite } from '@segmenta/chassis';
import { startOffers } from '../src/start';

/**
 * Hostile input on every documented route of offers (libs/chassis/src/testing/fuzz-routes.ts):
 * no 5xx, errors in the API error shape, no state change on a 4xx. FUZZ_SEED replays a failure.
 * Two offers exist, so requests on /v1/offers/{key}/… reach the catalog's logic, not only its 404.
 */
jest.setTimeout(120_000);

const suite = fuzzSuite(startOffers, {
  label: 'offfuzz',
  runsPerRoute: 6,
  prepare: async (service, adminKey) => {
    const base = await service.app.getUrl();
    const offer = (key: string, coupons: Record<string, unknown>) => ({
      key,
      name: key,
      description: 'Fuzzed',
      reward: { type: 'percent_off', percent: 10 },
      placements: ['checkout'],
      startsAt: '2030-01-01T00:00',
      timeZone: 'Europe/Berlin',
      coupons,
    });
    for (const body of [offer('fuzz-pool', { type: 'unique' }), offer('fuzz-plain', { type: 'none' })]) {
      const response = await fetch(`${base}/v1/offers`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (response.status !== 201) throw new Error(`fuzz prepare: creating ${body.key} answered ${response.status}: ${await response.text()}`);
    }
    return { knownIds: ['fuzz-pool', 'fuzz-plain'] };
  },
});
beforeAll(suite.start);
afterAll(suite.stop);

it('answers hostile input on every route with a 4xx that changes nothing, or a success', suite.run);
