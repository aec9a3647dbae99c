import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { OfferServedV1 } from './offer-events';

describe('OfferServedV1', () => {
  const served = {
    servedId: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d',
    profileId: null,
    identifier: { kind: 'anonymous_id', value: 'anon-1' },
    placement: 'home_banner',
    offers: [{ offerId: '0b9f8c52-3a55-4d1e-9a4e-2f7c5d7f1a10', offerKey: 'welcome' }],
    at: '2026-12-01T10:00:00.000Z',
  };
  const problems = (value: object) => validateSync(plainToInstance(OfferServedV1, value)).map((e) => e.property);

  it('accepts an exposure of a known profile or an unknown visitor, and an empty answer', () => {
    expect(problems(served)).toEqual([]);
    expect(problems({ ...served, profileId: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d', placement: null, offers: [] })).toEqual([]);
  });

  it('refuses a malformed id, more offers than one answer holds, and a missing time', () => {
    expect(problems({ ...served, servedId: 'x', offers: Array.from({ length: 51 }, () => served.offers[0]), at: undefined })).toEqual(['servedId', 'offers', 'at']);
  });
});
