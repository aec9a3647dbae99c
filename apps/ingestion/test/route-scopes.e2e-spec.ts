import { routeScopeSuite } from '@segmenta/chassis';
import { startIngestion } from '../src/start';

// The tracking calls take write keys; sources and API keys are configuration.
const suite = routeScopeSuite(startIngestion, { label: 'ingsc', scopes: ['none', 'admin', 'write-key'], routes: ['POST /v1/api-keys/{id}/revoke'] });
beforeAll(suite.start);
afterAll(suite.stop);

it('answers every documented route with the auth decision its x-required-scope implies, for no key, a wrong key and each scope', suite.check);

it('documents the scopes that pass each operation as its api-key security requirement', async () => {
  const document = (await (await fetch(`${await suite.service().app.getUrl()}/docs/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown; 'x-accepted-scopes'?: unknown }>>;
    components: { securitySchemes: Record<string, unknown> };
  };
  expect(document.components.securitySchemes['api-key']).toMatchObject({ type: 'http', scheme: 'bearer' });
  expect(document.paths['/v1/api-keys'].post).toMatchObject({ security: [{ 'api-key': ['admin'] }], 'x-accepted-scopes': ['admin'] });
  expect(document.paths['/v1/api-keys'].get).toMatchObject({ security: [{ 'api-key': ['admin', 'read'] }], 'x-accepted-scopes': ['admin', 'read'] });
});
