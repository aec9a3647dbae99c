import { routeScopeSuite } from '@segmenta/chassis';
import { startSegmentation } from '../src/start';

// A customer's segments are read at run time (personalize); the rest is configuration.
const suite = routeScopeSuite(startSegmentation, { label: 'segsc', scopes: ['none', 'admin', 'personalize'] });
beforeAll(suite.start);
afterAll(suite.stop);

it('answers every documented route with the auth decision its x-required-scope implies, for no key, a wrong key and each scope', suite.check);
