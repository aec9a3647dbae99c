import { randomUUID } from 'node:crypto';
import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { SUBJECTS, type TrackAcceptedResponse, type TrackEventV1 } from '@segmenta/contracts';
import { JetStreamClient, createEnvelope } from '@segmenta/messaging';
import type { TrackEventDto } from './tracking.dto';

@Injectable()
export class TrackingService {
  private readonly logger = new Logger(TrackingService.name);

  constructor(private readonly jetstream: JetStreamClient) {}

  /** Publishes the event and resolves only once JetStream has stored it. */
  async track(dto: TrackEventDto, receivedAt = new Date()): Promise<TrackAcceptedResponse> {
    const messageId = dto.messageId ?? randomUUID();
    const event: TrackEventV1 = {
      messageId,
      userId: dto.userId,
      anonymousId: dto.anonymousId,
      event: dto.event,
      properties: dto.properties ?? {},
      context: dto.context ?? {},
      timestamp: (dto.timestamp ?? receivedAt).toISOString(),
      receivedAt: receivedAt.toISOString(),
    };
    try {
      await this.jetstream.publish(SUBJECTS.event('track'), createEnvelope('track', event, { id: messageId, occurredAt: new Date(event.timestamp) }), {
        partitionKey: dto.userId ?? dto.anonymousId,
      });
    } catch (error) {
      this.logger.error(`publish of ${messageId} failed: ${(error as Error).message}`);
      throw new ServiceUnavailableException({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The event stream is unavailable; nothing was accepted. Retry with the same messageId.',
        details: [],
      });
    }
    return { success: true, messageId };
  }
}
