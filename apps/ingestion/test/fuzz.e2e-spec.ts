import request from 'supertest';
import { fuzzSuite } from '@segmenta/chassis';
import { startIngestion } from '../src/start';

/**
 * Hostile input on every documented route of ingestion (libs/chassis/src/testing/fuzz-routes.ts):
 * no 5xx, errors in the API error shape, no state change on a 4xx. FUZZ_SEED replays a failure.
 */
jest.setTimeout(120_000);

const suite = fuzzSuite(startIngestion, {
  label: 'ingfuzz',
  runsPerRoute: 10,
  prepare: async (service, adminKey) => {
    const http = request(service.app.getHttpServer());
    const source = (await http.post('/v1/sources').set('authorization', `Bearer ${adminKey}`).send({ name: 'Fuzzed' }).expect(201)).body as { id: string; writeKey: string };
    const key = (
      await http
        .post('/v1/api-keys')
        .set('authorization', `Bearer ${adminKey}`)
        .send({ name: 'fuzzed', scopes: ['read'] })
        .expect(201)
    ).body as { id: string };
    return { writeKey: source.writeKey, knownIds: [source.id, key.id] };
  },
});
beforeAll(suite.start);
afterAll(suite.stop);

it('answers hostile input on every route with a 4xx that changes nothing, or a success', suite.run);
