import { randomUUID } from 'node:crypto';
import type { JourneySendV1 } from '@segmenta/contracts';
import { WebhookReceiver, waitFor, type ServiceProcess } from '@segmenta/infra';
import { verifyWebhook } from '@segmenta/webhooks';
import { call, expectStatus } from './demo-offers';

/** What the journeys step shows, for the demo's test. */
export interface DemoJourneys {
  emailCode: string;
  verified: boolean;
  redeemed: number;
  secondEmails: number;
  cappedReason: string | null;
  reminderTo: string | null;
}

/**
 * The camera example (issue 20), through ingestion like a shop would send it: a customer who views
 * cameras three times this week enters "Camera fans this week"; a journey e-mails them, once, a
 * unique "10 % off cameras" code (a signed webhook to a local receiver); they redeem it at
 * checkout; more views send nothing more (re-entry: never); a customer who had an e-mail today is
 * skipped by the channel's cap; a points-expiring reminder fires from the loyalty event.
 */
export async function showJourneys(options: {
  offers: ServiceProcess;
  segmentation: ServiceProcess;
  ingestion: ServiceProcess;
  adminKey: string;
  writeKey: string;
  loyaltyProfileId: string;
  print: (line: string) => void;
}): Promise<DemoJourneys> {
  const { offers, segmentation, ingestion, adminKey, writeKey, loyaltyProfileId, print } = options;
  const admin = <T>(expected: number, method: string, path: string, body?: unknown, headers?: Record<string, string>) => expectStatus<T>(offers, adminKey, expected, method, path, body, headers);
  // The shop's e-mail and push provider: a local receiver that checks each delivery's Standard Webhooks signature.
  const receiver = new WebhookReceiver<JourneySendV1>((secret, headers, body) => verifyWebhook(secret, headers, body));
  await receiver.start();
  const secrets = receiver.secrets;
  try {
    const segment = await fetch(`${segmentation.url}/v1/segments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({
        key: 'camera-fans-this-week',
        name: 'Camera fans this week',
        description: 'Viewed cameras at least three times in the last 7 days',
        definition: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 3 }, within: 'P7D' },
      }),
    });
    if (segment.status !== 201 && segment.status !== 409) throw new Error(`creating camera-fans-this-week failed with ${segment.status}: ${await segment.text()}`);

    await admin(201, 'POST', '/v1/offers', {
      key: 'cameras-10-email',
      name: '10 % off cameras (e-mail)',
      description: 'Sent to camera fans by e-mail, one code each.',
      reward: { type: 'percent_off', percent: 10 },
      categories: ['cameras'],
      placements: ['email'],
      startsAt: '2020-01-01T00:00',
      endsAt: null,
      timeZone: 'Europe/Berlin',
      coupons: { type: 'unique' },
    });
    await admin(201, 'POST', '/v1/offers/cameras-10-email/codes', { generate: { count: 100, prefix: 'MAIL10-', length: 8 }, idempotencyKey: 'demo-mail-pool' });
    await admin(200, 'POST', '/v1/offers/cameras-10-email/status', { status: 'active' });
    for (const [key, caps] of [
      ['email', { capPerDay: 1, capPerWeek: 3 }],
      ['push', {}],
    ] as const) {
      const channel = await admin<{ secrets: string[] }>(200, 'PUT', `/v1/channels/${key}`, { type: 'webhook', url: `${receiver.url}/${key}`, ...caps });
      secrets.set(`/${key}`, channel.secrets[0]);
    }
    const journey = async (key: string, name: string, definition: unknown) => {
      await admin(201, 'POST', '/v1/journeys', { key, name, definition });
      await admin(200, 'POST', `/v1/journeys/${key}/status`, { status: 'active' });
    };
    await journey('camera-fans-10', 'Camera fans: 10 % off, once', {
      trigger: { type: 'segment_entered', segment: 'camera-fans-this-week' },
      steps: [{ id: 'email', type: 'send', channel: 'email', message: { template: 'camera-10', subject: '10 % off your next camera' }, offer: 'cameras-10-email' }],
      reentry: { policy: 'never' },
    });
    await journey('welcome', 'Welcome e-mail', {
      trigger: { type: 'event', event: 'Signed Up', where: [] },
      steps: [{ id: 'hello', type: 'send', channel: 'email', message: { template: 'welcome' } }],
    });
    await journey('points-expiring', 'Points expiring reminder', {
      trigger: { type: 'loyalty', event: 'points_expiring' },
      steps: [{ id: 'remind', type: 'send', channel: 'push', message: { template: 'points-expiring' } }],
      reentry: { policy: 'after', days: 30 },
    });
    print(
      `  journeys: "camera-fans-10" (entering camera-fans-this-week → an e-mail with a unique code, never twice), "welcome", "points-expiring" (→ push); channel email capped at 1 a day; webhooks to ${receiver.url}`,
    );

    const track = async (userId: string, event: string, properties: Record<string, unknown> = {}) => {
      const response = await fetch(`${ingestion.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
        body: JSON.stringify({ messageId: randomUUID(), userId, event, properties, timestamp: new Date().toISOString() }),
      });
      if (response.status !== 200) throw new Error(`POST /v1/track answered ${response.status}: ${await response.text()}`);
    };
    const suffix = randomUUID().slice(0, 8);
    const fan = `demo-fan-${suffix}`;
    const capped = `demo-subscriber-${suffix}`;
    const emails = () => receiver.received.filter((r) => r.path === '/email');
    const cameraEmails = () => emails().filter((r) => r.payload.journey === 'camera-fans-10');

    for (let i = 0; i < 3; i += 1) await track(fan, 'Product Viewed', { category: 'cameras', product_id: `cam-${i}` });
    await waitFor(async () => cameraEmails().length === 1, { timeoutMs: 60_000, intervalMs: 200, what: 'the camera e-mail' });
    const email = cameraEmails()[0];
    const code = email.payload.offer?.code ?? '';
    print(
      `  ${fan} views cameras 3 times → enters camera-fans-this-week → e-mail "${String(email.payload.message.subject)}" with code ${code}; signature ${email.verified ? 'verified' : 'NOT verified'} (Standard Webhooks)`,
    );

    const redemption = await call(
      offers,
      adminKey,
      'POST',
      '/v1/redemptions',
      { offerKey: 'cameras-10-email', profileId: email.payload.profileId, code, orderId: `demo-order-${suffix}`, orderAmount: { amount: 54_900, currency: 'EUR' } },
      { 'idempotency-key': `demo-mail-${suffix}` },
    );
    print(`  checkout: ${fan} redeems ${code} → ${redemption.status}`);

    for (let i = 0; i < 3; i += 1) await track(fan, 'Product Viewed', { category: 'cameras', product_id: `cam-more-${i}` });
    // A later customer's e-mail shows the views above have been handled.
    await track(capped, 'Signed Up');
    await waitFor(async () => emails().some((r) => r.payload.journey === 'welcome'), { timeoutMs: 60_000, intervalMs: 200, what: 'the welcome e-mail' });
    const secondEmails = cameraEmails().length - 1;
    print(`  ${fan} views cameras 3 more times: ${secondEmails === 0 ? 'no second e-mail' : `${secondEmails} more e-mails`} (re-entry policy: never)`);

    for (let i = 0; i < 3; i += 1) await track(capped, 'Product Viewed', { category: 'cameras', product_id: `cam-${i}` });
    type Report = { entered: number; steps: Array<{ id: string; sent: number; delivered: number; skippedByCap: number }> };
    let report: Report | undefined;
    await waitFor(
      async () => {
        report = await admin<Report>(200, 'GET', '/v1/journeys/camera-fans-10/report');
        return report.steps[0].skippedByCap >= 1;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the capped send' },
    );
    type Enrollments = { enrollments: Array<{ steps: Array<{ step: string; outcome: string; detail: string | null }> }> };
    const cappedProfile = emails().find((r) => r.payload.journey === 'welcome')?.payload.profileId as string;
    const enrollments = await admin<Enrollments>(200, 'GET', `/v1/journeys/camera-fans-10/enrollments?profileId=${cappedProfile}`);
    const skipped = enrollments.enrollments[0]?.steps.find((s) => s.outcome === 'skipped');
    const cappedReason = skipped?.detail ?? null;
    print(`  ${capped} got the welcome e-mail today, then views cameras 3 times → enters the segment; the camera e-mail is skipped: ${String(cappedReason)}`);
    const step = (report as Report).steps[0];
    print(`  report camera-fans-10: entered ${(report as Report).entered}, sent ${step.sent}, delivered ${step.delivered}, skipped by the cap ${step.skippedByCap}`);

    // Announce points expiring within the year: the loyalty jobs publish loyalty.points_expiring for the customer's points.
    await admin(200, 'PUT', '/v1/loyalty/program', { returnWindowDays: 14, capPerOrder: null, capPerDay: null, expireAfterDays: 365, expiringNoticeDays: 365 });
    await waitFor(async () => receiver.received.some((r) => r.path === '/push' && r.payload.profileId === loyaltyProfileId), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'the points-expiring reminder',
    });
    const reminder = receiver.received.find((r) => r.path === '/push' && r.payload.profileId === loyaltyProfileId);
    print(`  points expiring within the programme's notice → loyalty.points_expiring → push "${String(reminder?.payload.message.template)}" to the loyalty customer (journey points-expiring)`);
    return {
      emailCode: code,
      verified: email.verified,
      redeemed: redemption.status,
      secondEmails,
      cappedReason,
      reminderTo: reminder?.payload.profileId ?? null,
    };
  } finally {
    await receiver.stop();
  }
}
