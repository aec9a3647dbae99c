import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { TrafficControl, type AdmittedRequest, type AdmittedResponse } from '@segmenta/chassis';
import type { Source } from '../sources/sources.repository';
import { SourcesService } from '../sources/sources.service';
import { writeKeyFrom } from '../sources/write-key';

export interface TrackingRequest extends AdmittedRequest {
  headers: Record<string, string | undefined>;
  body: unknown;
  /** Set by WriteKeyGuard: the source whose write key authenticated the request. */
  source?: Source;
}

/**
 * Segment's write-key auth; a missing, unknown or disabled key gets 401 before anything is read,
 * a locked-out address 429, and each source counts against RATE_LIMIT_PER_KEY.
 */
@Injectable()
export class WriteKeyGuard implements CanActivate {
  constructor(
    private readonly sources: SourcesService,
    private readonly traffic: TrafficControl,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<TrackingRequest>();
    const source = await this.sources.authenticate(writeKeyFrom(request.headers.authorization, request.body), this.traffic.addressOf(request));
    this.traffic.consumeKey(`source:${source.id}`, context.switchToHttp().getResponse<AdmittedResponse>());
    request.source = source;
    return true;
  }
}
