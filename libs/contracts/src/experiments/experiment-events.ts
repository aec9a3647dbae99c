import { IsArray, IsIn, IsInt, IsISO8601, IsNumber, IsObject, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';

export const EXPERIMENT_STATUSES = ['draft', 'running', 'stopped'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

export const EXPOSURE_SOURCES = ['api', 'offers', 'journeys', 'activity'] as const;
export type ExposureSource = (typeof EXPOSURE_SOURCES)[number];

export const EXPERIMENT_KINDS = ['experiment', 'holdout'] as const;
export type ExperimentKind = (typeof EXPERIMENT_KINDS)[number];
/** The programme holdout's variants: the first (the control of its comparisons) is held out. */
export const PROGRAMME_HOLDOUT_VARIANTS = { holdout: 'holdout', treated: 'treated' } as const;

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

  /**
   * `holdout`: the programme's holdout (issue 22), variants [holdout, treated]. Customers hashed into
   * the holdout get nothing personalized: no offers, base earning only, no journeys. Absent: an experiment.
   */
  @IsOptional()
  @IsIn(EXPERIMENT_KINDS)
  kind?: ExperimentKind;

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

  /** Where the customer was first exposed: the assignment API, offers served, a journey split, or (the programme holdout) their first activity. */
  @IsIn(EXPOSURE_SOURCES)
  source!: ExposureSource;

  @IsISO8601()
  at!: string;
}
