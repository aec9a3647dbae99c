CREATE TABLE "segmentation"."experiment_lift" (
	"segment_key" text NOT NULL,
	"experiment_id" uuid NOT NULL,
	"experiment_key" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"metrics" jsonb NOT NULL,
	CONSTRAINT "experiment_lift_experiment_id_segment_key_pk" PRIMARY KEY("experiment_id","segment_key")
);
--> statement-breakpoint
CREATE INDEX "experiment_lift_segment_idx" ON "segmentation"."experiment_lift" USING btree ("segment_key");