import { Injectable, Logger } from '@nestjs/common';
import { SUBJECTS, type JourneyDeliveredV1 } from '@segmenta/contracts';
import { JetStreamClient, Outbox, createEnvelope } from '@segmenta/messaging';
import { DEFAULT_RETRY_POLICY, attemptVerdict, retryDelayMs, signWebhook } from '@segmenta/webhooks';
import { OffersConfig } from '../config';
import { JourneyRunsRepository, type AttemptRecord, type ChannelRow, type DeliveryRow } from './journey-runs.repository';
import { PolledWorker } from './poll-loop';

/** A leased delivery is left alone this long past the longest attempt's timeout before another round may try it (a worker died holding it). */
const LEASE_MARGIN_MS = 15_000;
/** The most characters of a receiver's error kept per attempt. */
const MAX_ERROR = 300;

type Attempt = { status: number | undefined; error: string | null; durationMs: number };

/**
 * Delivers journeys' sends (issue 20): webhooks signed the Standard Webhooks way (webhook-id is the
 * delivery's id on every attempt), or messages on a NATS subject through JetStream (Nats-Msg-Id the
 * same id). Each round leases due deliveries, tries them side by side, and records every attempt
 * and each delivery's state in one transaction; a final outcome publishes journeys.delivered
 * through the outbox. 2xx delivers; 4xx other than 408/429 fails at once; anything else is
 * retried with exponential backoff and full jitter until the channel's retry time has passed.
 */
@Injectable()
export class JourneyDeliveryWorker extends PolledWorker {
  delivered = 0;

  constructor(
    private readonly runs: JourneyRunsRepository,
    private readonly outbox: Outbox,
    private readonly client: JetStreamClient,
    private readonly config: OffersConfig,
  ) {
    super('journey deliveries', { pollMs: config.JOURNEY_POLL_MS, batchSize: config.JOURNEY_BATCH_SIZE, logger: new Logger(JourneyDeliveryWorker.name) });
  }

  protected round(): Promise<number> {
    return this.deliverDue();
  }

  /** One round; returns how many deliveries it tried. */
  async deliverDue(now = new Date()): Promise<number> {
    const channels = new Map((await this.runs.channels()).map((c) => [c.key, c]));
    const leaseMs = Math.max(0, ...[...channels.values()].map((c) => c.timeoutMs)) + LEASE_MARGIN_MS;
    const leased = await this.runs.leaseDue(now, this.config.JOURNEY_BATCH_SIZE, leaseMs);
    if (leased.length === 0) return 0;
    const tried = await Promise.all(leased.map(async (delivery) => ({ delivery, at: new Date(), attempt: await this.attempt(delivery, channels.get(delivery.channel)) })));

    const attempts: AttemptRecord[] = [];
    const outcomes: Parameters<JourneyRunsRepository['recordAttempts']>[2] = [];
    const finals: JourneyDeliveredV1[] = [];
    const done = new Date();
    for (const { delivery, at, attempt } of tried) {
      const number = delivery.attempts + 1;
      attempts.push({ deliveryId: delivery.id, attempt: number, at, statusCode: attempt.status ?? null, error: attempt.error, durationMs: attempt.durationMs });
      const verdict = attemptVerdict(attempt.status);
      const error = verdict === 'delivered' ? null : (attempt.error ?? `HTTP ${attempt.status}`);
      const delay =
        verdict === 'retry'
          ? retryDelayMs(number, done.getTime() - delivery.createdAt.getTime(), { ...DEFAULT_RETRY_POLICY, giveUpAfterMs: delivery.giveUpAt.getTime() - delivery.createdAt.getTime() })
          : null;
      if (verdict === 'retry' && delay !== null) {
        outcomes.push({ id: delivery.id, status: 'pending', attempts: number, nextAttemptAt: new Date(done.getTime() + delay), lastError: error });
        continue;
      }
      const status = verdict === 'delivered' ? 'delivered' : 'failed';
      const reason = verdict === 'retry' ? `gave up after ${number} attempts: ${error}` : error;
      outcomes.push({ id: delivery.id, status, attempts: number, nextAttemptAt: null, lastError: reason });
      finals.push({
        deliveryId: delivery.id,
        journey: delivery.journeyKey,
        journeyVersion: delivery.version,
        step: delivery.stepId,
        enrollmentId: delivery.enrollmentId,
        profileId: delivery.profileId,
        channel: delivery.channel,
        outcome: status,
        attempts: number,
        error: reason,
        at: done.toISOString(),
      });
    }
    await this.runs.transaction(async (tx) => {
      await this.runs.recordAttempts(tx, attempts, outcomes, done);
      await this.outbox.write(
        tx,
        finals.map((data) => ({
          subject: SUBJECTS.journeysDelivered,
          envelope: createEnvelope(SUBJECTS.journeysDelivered, data, { id: `journey-delivery-${data.deliveryId}` }),
          partitionKey: data.profileId,
        })),
      );
    });
    if (finals.length > 0) this.outbox.wake();
    this.delivered += finals.filter((f) => f.outcome === 'delivered').length;
    return leased.length;
  }

  private async attempt(delivery: DeliveryRow, channel: ChannelRow | undefined): Promise<Attempt> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    // A channel deleted after the send: a refusal, nothing to retry against.
    if (!channel) return { status: 410, error: `channel ${delivery.channel} no longer exists`, durationMs: 0 };
    try {
      if (channel.kind === 'nats') {
        await this.client.publish(channel.subject as string, createEnvelope('journeys.send', delivery.payload, { id: delivery.id }), { partitionKey: delivery.profileId });
        return { status: 200, error: null, durationMs: took() };
      }
      const body = JSON.stringify(delivery.payload);
      const response = await fetch(channel.url as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Segmenta-Journeys/1', ...signWebhook(channel.secrets, delivery.id, new Date(), body) },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(channel.timeoutMs),
      });
      // The body is read (and dropped) so the connection goes back to the pool.
      const text = await response.text().catch(() => '');
      const ok = response.status >= 200 && response.status < 300;
      return { status: response.status, error: ok ? null : `HTTP ${response.status}${text ? `: ${text.slice(0, MAX_ERROR)}` : ''}`, durationMs: took() };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${channel.timeoutMs} ms` : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
      return { status: undefined, error: why.slice(0, MAX_ERROR), durationMs: took() };
    }
  }
}
