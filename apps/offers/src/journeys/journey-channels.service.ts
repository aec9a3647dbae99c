import { Injectable } from '@nestjs/common';
import { NotFoundError, ValidationFailedError } from '@segmenta/chassis';
import type { ApiErrorDetail } from '@segmenta/contracts';
import { SUBJECTS } from '@segmenta/contracts';
import { generateWebhookSecret, secretBytes } from '@segmenta/webhooks';
import type { PutChannelDto } from './journeys.dto';
import { JourneysRepository, type ChannelRow } from './journeys.repository';

const CHANNEL_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Under journeys. so the OFFERS stream keeps what is sent; never the subject of journeys' own events. */
/** The platform's own subjects under journeys.: a channel publishing there would feed its consumers the wrong messages. */
const PLATFORM_JOURNEY_SUBJECTS: string[] = [SUBJECTS.journeysDelivered, SUBJECTS.journeysExposed];

const NATS_SUBJECT = /^journeys(\.[A-Za-z0-9_-]{1,64}){1,5}$/;

/** A channel as the API shows it: its secrets only as hints (the first characters). */
export function channelView(row: ChannelRow, shownSecrets?: string[]) {
  return {
    key: row.key,
    type: row.kind,
    url: row.url,
    subject: row.subject,
    ...(shownSecrets ? { secrets: shownSecrets } : {}),
    secretHints: row.secrets.map((s) => `${s.slice(0, 10)}…`),
    capPerDay: row.capPerDay,
    capPerWeek: row.capPerWeek,
    retryForSeconds: row.retryForSeconds,
    timeoutMs: row.timeoutMs,
    updatedAt: row.updatedAt.toISOString(),
  };
}

function checkedTarget(body: PutChannelDto): { url: string | null; subject: string | null; problems: ApiErrorDetail[] } {
  const problems: ApiErrorDetail[] = [];
  if (body.type === 'webhook') {
    let url: URL | undefined;
    try {
      url = body.url === undefined ? undefined : new URL(body.url);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) problems.push({ field: 'url', problem: 'a webhook needs an http(s) URL' });
    if (body.subject !== undefined) problems.push({ field: 'subject', problem: 'is for nats channels' });
    for (const [i, secret] of (body.secrets ?? []).entries()) {
      try {
        secretBytes(secret);
      } catch (error) {
        problems.push({ field: `secrets[${i}]`, problem: (error as Error).message });
      }
    }
    return { url: url?.toString() ?? null, subject: null, problems };
  }
  if (body.subject === undefined || !NATS_SUBJECT.test(body.subject) || PLATFORM_JOURNEY_SUBJECTS.includes(body.subject))
    problems.push({ field: 'subject', problem: `a nats channel needs a subject under journeys. (such as journeys.sends.push), not ${PLATFORM_JOURNEY_SUBJECTS.join(' or ')}` });
  if (body.url !== undefined) problems.push({ field: 'url', problem: 'is for webhook channels' });
  if (body.secrets !== undefined) problems.push({ field: 'secrets', problem: 'are for webhook channels (JetStream delivers to subscribers of the stream)' });
  return { url: null, subject: body.subject ?? null, problems };
}

/** Channels (issue 20): where sends go, with their signing secrets, caps and retry time. */
@Injectable()
export class JourneyChannelsService {
  constructor(private readonly repository: JourneysRepository) {}

  async put(key: string, body: PutChannelDto) {
    const problems: ApiErrorDetail[] = CHANNEL_KEY.test(key) ? [] : [{ field: 'key', problem: 'must be 1–64 lower-case letters, digits, - and _' }];
    const target = checkedTarget(body);
    problems.push(...target.problems);
    if (problems.length > 0) throw ValidationFailedError.of(problems);
    return this.repository.transaction(async (tx) => {
      const stored = await this.repository.channel(key, tx);
      // A new webhook without secrets gets one, shown in this answer only.
      const generated = body.type === 'webhook' && body.secrets === undefined && (!stored || stored.kind !== 'webhook') ? [generateWebhookSecret()] : undefined;
      const secrets = body.type === 'nats' ? [] : (body.secrets ?? generated ?? stored?.secrets ?? []);
      if (body.type === 'webhook' && secrets.length === 0) throw ValidationFailedError.of([{ field: 'secrets', problem: 'a webhook needs at least one signing secret' }]);
      const row = await this.repository.putChannel(tx, {
        key,
        kind: body.type,
        url: target.url,
        subject: target.subject,
        secrets,
        capPerDay: body.capPerDay === undefined ? (stored?.capPerDay ?? null) : body.capPerDay,
        capPerWeek: body.capPerWeek === undefined ? (stored?.capPerWeek ?? null) : body.capPerWeek,
        retryForSeconds: body.retryForSeconds ?? stored?.retryForSeconds ?? 86_400,
        timeoutMs: body.timeoutMs ?? stored?.timeoutMs ?? 10_000,
      });
      return channelView(row, generated);
    });
  }

  async get(key: string) {
    const row = CHANNEL_KEY.test(key) ? await this.repository.channel(key) : undefined;
    if (!row) throw new NotFoundError(`No channel ${key}`, [{ field: 'key', problem: 'not found' }]);
    return channelView(row);
  }

  async list() {
    return { channels: (await this.repository.channels()).map((row) => channelView(row)) };
  }

  async delete(key: string) {
    if (!CHANNEL_KEY.test(key) || !(await this.repository.deleteChannel(key))) throw new NotFoundError(`No channel ${key}`, [{ field: 'key', problem: 'not found' }]);
    return { deleted: true, key };
  }
}
