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

  /** A bandit's weights per targeted segment (issue 22): a customer in one of these segments is split by them instead of the variants' weights. */
  @IsOptional()
  @IsObject()
  segmentWeights?: Record<string, number[]>;

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

/** A lift against the control: the absolute difference in means with its 95 % interval and p-value (Welch). */
export interface ExperimentLiftV1 {
  estimate: number;
  ci: [number, number];
  pValue: number;
}

/** One treatment variant of a metric in a segment, against the control. */
export interface ExperimentVariantLiftV1 {
  variant: string;
  n: number;
  /** Mean per exposed customer (a rate for conversion, retention and redemption); null with nobody exposed. */
  mean: number | null;
  /** Null until both arms have enough customers and some variance. */
  lift: ExperimentLiftV1 | null;
  /** The lift relative to the control's mean (0.2: 20 % more). */
  relativeLift: number | null;
  /** The p-value corrected over the experiment's segments (Holm); null for everyone. */
  pValueAdjusted: number | null;
  chanceToBeatControl: number | null;
}

/** One metric's results in a segment (or for everyone). */
export interface ExperimentMetricLiftV1 {
  metricKey: string;
  type: string;
  control: { variant: string; n: number; mean: number | null };
  variants: ExperimentVariantLiftV1[];
}

/** A segment's own breakdown of an experiment's results. */
export interface ExperimentSegmentResultsV1 {
  segmentKey: string;
  metrics: ExperimentMetricLiftV1[];
}

/**
 * `experiments.results`: an experiment's results by segment (issue 22), recomputed on
 * EXPERIMENTS_RESULTS_CRON and on demand. Segmentation keeps the newest per segment and experiment
 * and shows it next to the segment's KPIs; a message whose status is `stopped` retires them.
 */
export class ExperimentResultsV1 {
  @IsUUID()
  experimentId!: string;

  @IsString()
  key!: string;

  @IsIn(EXPERIMENT_KINDS)
  kind!: ExperimentKind;

  @IsIn(EXPERIMENT_STATUSES)
  status!: ExperimentStatus;

  /** When the results were computed: a later one replaces an earlier one. */
  @IsISO8601()
  at!: string;

  /** Everyone exposed, per metric. Checked as objects (experiments built them from its own results). */
  @IsArray()
  @IsObject({ each: true })
  overall!: ExperimentMetricLiftV1[];

  /** One entry per segment with its own breakdown rows; checked as objects like `overall`. */
  @IsArray()
  @IsObject({ each: true })
  segments!: ExperimentSegmentResultsV1[];
}
