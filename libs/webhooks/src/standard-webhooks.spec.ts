import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, secretBytes, signWebhook, verifyWebhook } from './standard-webhooks';

// Checked against the Standard Webhooks reference library (npm `standardwebhooks`), as a receiver would.
describe('Standard Webhooks signing', () => {
  const body = JSON.stringify({ type: 'journeys.treatment', data: { profileId: 'p-1', code: 'CAM10-7KQ2M9XH' } });

  it('signs so that the standardwebhooks library verifies the delivery, and refuses a changed body, id or old timestamp', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook(secret, 'msg_2Lh9u1', new Date(), body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('p-1', 'p-2'), { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow();
    const old = signWebhook(secret, 'msg_2Lh9u1', new Date(Date.now() - 10 * 60_000), body);
    expect(() => new Webhook(secret).verify(body, { ...old })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow();
  });

  it("gives the reference library's own signature for the same secret, id, time and body", () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const at = new Date('2026-12-03T10:00:00Z');
    expect(signWebhook(secret, 'msg_1', at, body)['webhook-signature']).toBe(new Webhook(secret).sign('msg_1', at, body));
    expect(signWebhook(secret, 'msg_1', at, body)['webhook-timestamp']).toBe(String(at.getTime() / 1000));
  });

  it('signs with every secret of a rotation, and our verifier accepts any of them within the tolerance', () => {
    const [previous, next] = [generateWebhookSecret(), generateWebhookSecret()];
    const now = new Date();
    const headers = signWebhook([previous, next], 'msg_rot', now, body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(previous).verify(body, { ...headers })).toBeTruthy();
    expect(new Webhook(next).verify(body, { ...headers })).toBeTruthy();
    expect(verifyWebhook(next, { ...headers }, body, now)).toBe(true);
    expect(verifyWebhook(next, { ...headers }, `${body} `, now)).toBe(false);
    expect(verifyWebhook(next, { ...headers }, body, new Date(now.getTime() + 301_000))).toBe(false);
    expect(verifyWebhook(generateWebhookSecret(), { ...headers }, body, now)).toBe(false);
  });

  it('makes and reads secrets of 24 to 64 bytes only', () => {
    expect(secretBytes(generateWebhookSecret(24))).toHaveLength(24);
    expect(() => generateWebhookSecret(16)).toThrow(RangeError);
    expect(() => secretBytes('sk_abc')).toThrow(/whsec_/);
    expect(() => secretBytes(`whsec_${Buffer.alloc(8).toString('base64')}`)).toThrow(/24 to 64 bytes/);
  });
});
