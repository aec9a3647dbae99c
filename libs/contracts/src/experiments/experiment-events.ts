import { IsArray, IsIn, IsInt, IsISO8601, IsNumber, IsObject, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';

export const EXPERIMENT_STATUSES = ['draft', 'running', 'stopped'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

/** One variant as services that assign in process need it. */
export class ExperimentVariantV1 {
  @IsString()
  key!: string;

  @IsString()
  name!: string;

  @IsNumber()
  @Min(0)
  @Max(1)
  weight!: number;

  /** Offers this variant serves in the experiment's placement. */
  @IsArray()
  @IsString({ each: true })
  offers!: string[];

  /** A journey split's branch this variant takes. */
  @IsOptional()
  @IsObject()
  journeyBranch!: { journey: string; step: string; branch: number } | null;

  @IsOptional()
  @IsObject()
  payload!: Record<string, unknown> | null;
}

/**
 * `experiments.changed`: an experiment's assignment rules after a change (created, edited, started,
 * stopped). Offers and journeys keep the running ones and assign in process with the same hashing;
 * `revision` grows with every change, so a late message never undoes a newer one.
 */
export class ExperimentChangedV1 {
  @IsUUID()
  experimentId!: string;

  @IsString()
  key!: string;

  @IsIn(EXPERIMENT_STATUSES)
  status!: ExperimentStatus;

  @IsInt()
  @Min(1)
  revision!: number;

  @IsString()
  seed!: string;

  /** Customers in any of these segments (none: everyone). */
  @IsArray()
  @IsString({ each: true })
  segments!: string[];

  @IsNumber()
  @Min(0)
  @Max(1)
  trafficShare!: number;

  @IsOptional()
  @IsString()
  placement!: string | null;

  @IsOptional()
  @IsObject()
  namespace!: { id: string; start: number; end: number } | null;

  /** Checked as objects here; the fields are ExperimentVariantV1's (experiments wrote them after its own checks). */
  @IsArray()
  @IsObject({ each: true })
  variants!: ExperimentVariantV1[];

  @IsISO8601()
  at!: string;
}

/** `experiments.exposed`: a customer's first exposure to an experiment (later ones are not announced). */
export class ExperimentExposedV1 {
  @IsUUID()
  experimentId!: string;

  @IsString()
  key!: string;

  @IsUUID()
  profileId!: string;

  @IsString()
  variant!: string;

  @IsIn(['api', 'offers', 'journeys'])
  source!: 'api' | 'offers' | 'journeys';

  @IsISO8601()
  at!: string;
}
