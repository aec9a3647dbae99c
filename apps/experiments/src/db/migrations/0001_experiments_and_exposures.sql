CREATE TABLE "experiments"."exposures" (
	"experiment_id" uuid NOT NULL,
	"profile_id" uuid NOT NULL,
	"variant" text NOT NULL,
	"first_exposed_at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"covariate" double precision,
	CONSTRAINT "exposures_experiment_id_profile_id_pk" PRIMARY KEY("experiment_id","profile_id")
);
--> statement-breakpoint
CREATE TABLE "experiments"."inbox" (
	"consumer" text NOT NULL,
	"envelope_id" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_envelope_id_pk" PRIMARY KEY("consumer","envelope_id")
);
--> statement-breakpoint
CREATE TABLE "experiments"."memberships" (
	"segment_key" text NOT NULL,
	"profile_id" uuid NOT NULL,
	"member" boolean NOT NULL,
	"seq" bigint NOT NULL,
	CONSTRAINT "memberships_segment_key_profile_id_pk" PRIMARY KEY("segment_key","profile_id")
);
--> statement-breakpoint
CREATE TABLE "experiments"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"partition_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "experiments"."stream_erasures" (
	"stream" text NOT NULL,
	"seq" bigint NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_erasures_stream_seq_pk" PRIMARY KEY("stream","seq")
);
--> statement-breakpoint
CREATE TABLE "experiments"."stream_locations" (
	"stream" text NOT NULL,
	"seq" bigint NOT NULL,
	"partition_key" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_locations_stream_seq_pk" PRIMARY KEY("stream","seq")
);
--> statement-breakpoint
ALTER TABLE "experiments"."experiments" ADD COLUMN "name" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."experiments" ADD COLUMN "revision" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."experiments" ADD COLUMN "created_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."experiments" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "exposures_profile_idx" ON "experiments"."exposures" USING btree ("profile_id");--> statement-breakpoint
CREATE INDEX "inbox_applied_at_idx" ON "experiments"."inbox" USING btree ("applied_at");--> statement-breakpoint
CREATE UNIQUE INDEX "memberships_profile_idx" ON "experiments"."memberships" USING btree ("profile_id","segment_key") WHERE member;--> statement-breakpoint
CREATE INDEX "stream_locations_partition_key_idx" ON "experiments"."stream_locations" USING btree ("partition_key");