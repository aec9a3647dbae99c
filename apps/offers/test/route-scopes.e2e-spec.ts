import { routeScopeSuite } from '@segmenta/chassis';
import { startOffers } from '../src/start';

// Health, docs and metrics are public; the dead-letter routes every service has need admin; the
// catalog's GET routes and the read model's status are declared `read` (dashboards, the console),
// changes and the read model's rebuild `admin`; an app redeems and cancels with `personalize`, and
// reads redemptions with `read`; it asks for a customer's offers with `personalize` (not `read`:
// an answer reserves codes and records an exposure, x-changes-state), the loyalty team reads the
// personalization matrix with `read`. Loyalty: an app spends points with `personalize`; a customer's
// loyalty, the programme, the earn rules and the tiers are read with `read`; adjustments, the ledger check and
// changes to the programme, the rules and the tiers need `admin`.
const suite = routeScopeSuite(startOffers, {
  label: 'offsc',
  scopes: ['none', 'admin', 'personalize', 'read'],
  routes: [
    'GET /v1/offers',
    'POST /v1/offers',
    'GET /v1/offers/{key}',
    'PATCH /v1/offers/{key}',
    'DELETE /v1/offers/{key}',
    'POST /v1/offers/{key}/status',
    'GET /v1/offers/{key}/history',
    'POST /v1/offers/{key}/codes',
    'GET /v1/offers/{key}/codes',
    'POST /v1/redemptions',
    'POST /v1/redemptions/{id}/cancel',
    'GET /v1/redemptions/{id}',
    'GET /v1/offers/{key}/redemptions',
    'GET /v1/offers/status',
    'POST /v1/offers/read-model/rebuild',
    'GET /v1/customers/{id}/offers',
    'GET /v1/customers/offers',
    'GET /v1/personalization-matrix',
    'GET /v1/customers/{id}/loyalty',
    'POST /v1/loyalty/redemptions',
    'POST /v1/loyalty/adjustments',
    'GET /v1/loyalty/ledger-check',
    'GET /v1/loyalty/program',
    'PUT /v1/loyalty/program',
    'POST /v1/earn-rules',
    'GET /v1/earn-rules',
    'GET /v1/earn-rules/{key}',
    'PUT /v1/earn-rules/{key}',
    'DELETE /v1/earn-rules/{key}',
    'GET /v1/tiers',
    'GET /v1/tiers/{key}',
    'PUT /v1/tiers/{key}',
    'DELETE /v1/tiers/{key}',
    'POST /v1/journeys',
    'GET /v1/journeys',
    'GET /v1/journeys/{key}',
    'GET /v1/journeys/{key}/versions',
    'PATCH /v1/journeys/{key}',
    'POST /v1/journeys/{key}/status',
    'GET /v1/journeys/{key}/report',
    'GET /v1/journeys/{key}/deliveries',
    'GET /v1/journeys/{key}/enrollments',
    'PUT /v1/channels/{key}',
    'GET /v1/channels',
    'GET /v1/channels/{key}',
    'DELETE /v1/channels/{key}',
  ],
});
beforeAll(suite.start);
afterAll(suite.stop);

it('answers every documented route with the auth decision its x-required-scope implies, for no key, a wrong key and each scope', suite.check);
