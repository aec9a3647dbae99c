CREATE TABLE "experiments"."aggregates" (
	"experiment_id" uuid NOT NULL,
	"variant" text NOT NULL,
	"segment_key" text NOT NULL,
	"metric_key" text NOT NULL,
	"n" bigint DEFAULT 0 NOT NULL,
	"sum_y" double precision DEFAULT 0 NOT NULL,
	"sum_y2" double precision DEFAULT 0 NOT NULL,
	"sum_x" double precision DEFAULT 0 NOT NULL,
	"sum_x2" double precision DEFAULT 0 NOT NULL,
	"sum_xy" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "aggregates_experiment_id_variant_segment_key_metric_key_pk" PRIMARY KEY("experiment_id","variant","segment_key","metric_key")
);
--> statement-breakpoint
CREATE TABLE "experiments"."metric_values" (
	"experiment_id" uuid NOT NULL,
	"profile_id" uuid NOT NULL,
	"metric_key" text NOT NULL,
	"value" double precision DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "metric_values_experiment_id_profile_id_metric_key_pk" PRIMARY KEY("experiment_id","profile_id","metric_key")
);
--> statement-breakpoint
ALTER TABLE "experiments"."exposures" ADD COLUMN "segments" jsonb DEFAULT '[]'::jsonb NOT NULL;