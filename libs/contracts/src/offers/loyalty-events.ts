import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Min } from 'class-validator';

/** The kinds of points ledger entries (issue 19). */
export const POINTS_ENTRY_KINDS = ['earn', 'release', 'redeem', 'adjust', 'expire', 'clawback'] as const;
export type PointsEntryKind = (typeof POINTS_ENTRY_KINDS)[number];

/**
 * `loyalty.points`: one entry of a customer's points ledger, with the balances after it (written to
 * the outbox in the entry's transaction). An earn adds to `pending`; a release moves pending points
 * to `available`; a redemption, an expiry or a clawback takes them away; an adjustment does either.
 */
export class LoyaltyPointsChangedV1 {
  @IsUUID()
  profileId!: string;

  /** The ledger entry's id (ascending per account). */
  @IsInt()
  @Min(1)
  entryId!: number;

  @IsIn(POINTS_ENTRY_KINDS)
  kind!: PointsEntryKind;

  @IsInt()
  availableDelta!: number;

  @IsInt()
  pendingDelta!: number;

  @IsInt()
  @Min(0)
  available!: number;

  @IsInt()
  @Min(0)
  pending!: number;

  /** What caused it: `order:<id>`, `request:<Idempotency-Key>`, `release:<earn entry id>`, … */
  @IsString()
  cause!: string;

  @IsOptional()
  @IsString()
  orderId!: string | null;

  @IsISO8601()
  at!: string;
}

/** `loyalty.tier_changed`: a customer's tier moved, up at once when they qualify, down only at a review. */
export class LoyaltyTierChangedV1 {
  @IsUUID()
  profileId!: string;

  /** The tier key before (null: none). */
  @IsOptional()
  @IsString()
  from!: string | null;

  /** The tier key now (null: none). */
  @IsOptional()
  @IsString()
  to!: string | null;

  @IsIn(['upgrade', 'downgrade'])
  direction!: 'upgrade' | 'downgrade';

  @IsISO8601()
  at!: string;
}

/** `loyalty.points_expiring`: points of a customer expire soon (published once per lot of points, the configured days before). */
export class LoyaltyPointsExpiringV1 {
  @IsUUID()
  profileId!: string;

  @IsInt()
  @Min(1)
  points!: number;

  @IsISO8601()
  expiresAt!: string;
}
