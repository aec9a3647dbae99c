import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Source } from '../sources/sources.repository';
import { SourcesService } from '../sources/sources.service';
import { writeKeyFrom } from '../sources/write-key';

export interface TrackingRequest {
  headers: Record<string, string | undefined>;
  body: unknown;
  /** Set by WriteKeyGuard: the source whose write key authenticated the request. */
  source?: Source;
}

/** Segment's write-key auth; a missing, unknown or disabled key gets 401 before anything is read. */
@Injectable()
export class WriteKeyGuard implements CanActivate {
  constructor(private readonly sources: SourcesService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<TrackingRequest>();
    request.source = await this.sources.authenticate(writeKeyFrom(request.headers.authorization, request.body));
    return true;
  }
}
