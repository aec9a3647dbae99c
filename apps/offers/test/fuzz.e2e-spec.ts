import { fuzzSuite } from '@segmenta/chassis';
import { startOffers } from '../src/start';

/**
 * Hostile input on every documented route of offers (libs/chassis/src/testing/fuzz-routes.ts):
 * no 5xx, errors in the API error shape, no state change on a 4xx. FUZZ_SEED replays a failure.
 */
jest.setTimeout(120_000);

const suite = fuzzSuite(startOffers, { label: 'offfuzz', runsPerRoute: 6 });
beforeAll(suite.start);
afterAll(suite.stop);

it('answers hostile input on every route with a 4xx that changes nothing, or a success', suite.run);
