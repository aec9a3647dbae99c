import request from 'supertest';
import { fuzzSuite } from '@segmenta/chassis';
import { startSegmentation } from '../src/start';

/**
 * Hostile input on every documented route of segmentation (libs/chassis/src/testing/fuzz-routes.ts):
 * no 5xx, errors in the API error shape, no state change on a 4xx. FUZZ_SEED replays a failure.
 */
jest.setTimeout(120_000);

const NEVER = '0 0 1 1 *';
const suite = fuzzSuite(startSegmentation, {
  label: 'segfuzz',
  runsPerRoute: 8,
  // Scheduled jobs would change state between the two fingerprints of a request.
  env: { SEGMENTS_RECOMPUTE_CRON: NEVER, SEGMENTS_FULL_RECOMPUTE_CRON: NEVER, SEGMENTS_KPIS_CRON: NEVER, SEGMENTS_DISCOVER_CRON: NEVER },
  prepare: async (service, adminKey) => {
    const http = request(service.app.getHttpServer());
    const segment = (
      await http
        .post('/v1/segments')
        .set('authorization', `Bearer ${adminKey}`)
        .send({ key: 'fuzzed', name: 'Fuzzed', definition: { trait: 'country', op: 'eq', value: 'DE' } })
        .expect(201)
    ).body as { id: string };
    return { knownIds: [segment.id, 'fuzzed', 'rfm-champions'] };
  },
});
beforeAll(suite.start);
afterAll(suite.stop);

it('answers hostile input on every route with a 4xx that changes nothing, or a success', suite.run);
