CREATE TABLE "profiles"."propensity_models" (
	"name" text PRIMARY KEY NOT NULL,
	"label" jsonb NOT NULL,
	"report" jsonb NOT NULL,
	"trained_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "profiles"."profile_features" ADD COLUMN "propensities" jsonb DEFAULT '{}'::jsonb NOT NULL;