import { IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString } from 'class-validator';

/** What ingestion publishes on `events.track` (the envelope's `data`). */
export class TrackEventV1 {
  @IsString()
  @IsNotEmpty()
  messageId!: string;

  @IsOptional()
  @IsString()
  userId?: string;

  @IsOptional()
  @IsString()
  anonymousId?: string;

  @IsString()
  @IsNotEmpty()
  event!: string;

  @IsObject()
  properties!: Record<string, unknown>;

  @IsObject()
  context!: Record<string, unknown>;

  @IsISO8601()
  timestamp!: string;

  @IsISO8601()
  receivedAt!: string;
}

export interface TrackAcceptedResponse {
  success: true;
  messageId: string;
}
