import { routeScopeSuite } from '@segmenta/chassis';
import { startExperiments } from '../src/start';

// Health, docs and metrics are public; the dead-letter routes every service has need admin. The
// growth team creates, changes, starts and stops experiments with `admin` and reads them with
// `read`; an app asks for a customer's variant with `personalize` (it records an exposure).
const suite = routeScopeSuite(startExperiments, {
  label: 'expsc',
  scopes: ['none', 'admin', 'personalize', 'read'],
  routes: [
    'POST /v1/experiments',
    'GET /v1/experiments',
    'GET /v1/experiments/{key}',
    'PATCH /v1/experiments/{key}',
    'POST /v1/experiments/{key}/status',
    'POST /v1/experiments/{key}/assignments',
    'GET /v1/experiments/{key}/results',
  ],
});
beforeAll(suite.start);
afterAll(suite.stop);

it('answers every documented route with the auth decision its x-required-scope implies, for no key, a wrong key and each scope', suite.check);
