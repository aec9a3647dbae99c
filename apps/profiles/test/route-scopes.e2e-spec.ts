import { routeScopeSuite } from '@segmenta/chassis';
import { startProfiles } from '../src/start';

// Health, docs and metrics are public; the dead-letter routes every service has need admin.
const suite = routeScopeSuite(startProfiles, { label: 'prsc', scopes: ['none', 'admin'] });
beforeAll(suite.start);
afterAll(suite.stop);

it('answers every documented route with the auth decision its x-required-scope implies, for no key, a wrong key and each scope', suite.check);
