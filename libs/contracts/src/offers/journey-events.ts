import { ArrayMinSize, IsArray, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Min } from 'class-validator';
import type { ServedExperimentV1 } from './offer-events';

export const JOURNEY_DELIVERY_OUTCOMES = ['delivered', 'failed'] as const;
export type JourneyDeliveryOutcome = (typeof JOURNEY_DELIVERY_OUTCOMES)[number];

/** Which send of which journey step, for whom, on which channel: what a send and its outcome share. */
export class JourneyDeliveryRefV1 {
  @IsUUID()
  deliveryId!: string;

  @IsString()
  journey!: string;

  @IsInt()
  @Min(1)
  journeyVersion!: number;

  @IsString()
  step!: string;

  @IsUUID()
  enrollmentId!: string;

  @IsUUID()
  profileId!: string;

  @IsString()
  channel!: string;
}

/**
 * What a journey's send step hands its channel (the webhook body, or the NATS message's data): the
 * treatment, for whom, and the offer with the code reserved for this customer when it has one.
 * `deliveryId` is also the `webhook-id`: the same on every retry, so receivers drop repeats.
 */
export class JourneySendV1 extends JourneyDeliveryRefV1 {
  /** The treatment as the journey defines it (subject, template, …): the receiver renders it. */
  @IsObject()
  message!: Record<string, unknown>;

  /** The offer the step sends, with the unique code held for this customer (null: a shared or no code). */
  @IsOptional()
  @IsObject()
  offer!: { key: string; name: string; code: string | null } | null;

  @IsISO8601()
  sentAt!: string;
}

/** `journeys.delivered`: the outcome of a send once it is final (delivered, or failed after its retries or on a refusal). */
export class JourneyDeliveredV1 extends JourneyDeliveryRefV1 {
  @IsIn(JOURNEY_DELIVERY_OUTCOMES)
  outcome!: JourneyDeliveryOutcome;

  @IsInt()
  @Min(1)
  attempts!: number;

  /** Why it failed (the last status or error); null when delivered. */
  @IsOptional()
  @IsString()
  error!: string | null;

  @IsISO8601()
  at!: string;
}

/**
 * `journeys.exposed`: a journey's random split sent a customer down the branch of their variant of
 * a running experiment linked to that split (an exposure; experiments keeps the first). Customers
 * outside the experiment take the control's branch and are not announced. The envelope id is
 * `journey-exposed-<enrollmentId>-<stepId>`: a step run again after a crash is announced once.
 * Nested items are validated by consumers (contracts carry no class-transformer).
 */
export class JourneyExposedV1 {
  @IsUUID()
  profileId!: string;

  @IsString()
  journeyKey!: string;

  @IsInt()
  @Min(1)
  version!: number;

  /** The split step's id. */
  @IsString()
  stepId!: string;

  /** The branch taken, 1-based as experiments name it. */
  @IsInt()
  @Min(1)
  branch!: number;

  /** The experiments the customer is in at this split, with their variant. */
  @IsArray()
  @ArrayMinSize(1)
  experiments!: ServedExperimentV1[];

  @IsISO8601()
  at!: string;
}
