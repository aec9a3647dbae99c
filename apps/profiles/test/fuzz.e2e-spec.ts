import { fuzzSuite } from '@segmenta/chassis';
import { startProfiles } from '../src/start';

/**
 * Hostile input on every documented route of profiles (libs/chassis/src/testing/fuzz-routes.ts):
 * no 5xx, errors in the API error shape, no state change on a 4xx. FUZZ_SEED replays a failure.
 */
jest.setTimeout(120_000);

const NEVER = '0 0 1 1 *';
const suite = fuzzSuite(startProfiles, {
  label: 'proffuzz',
  runsPerRoute: 8,
  // Scheduled jobs would change state between the two fingerprints of a request.
  env: { FEATURES_REFRESH_CRON: NEVER, CUSTOMER_MODELS_FIT_CRON: NEVER },
});
beforeAll(suite.start);
afterAll(suite.stop);

it('answers hostile input on every route with a 4xx that changes nothing, or a success', suite.run);
