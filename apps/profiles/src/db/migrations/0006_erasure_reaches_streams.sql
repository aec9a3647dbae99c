CREATE TABLE "profiles"."stream_erasures" (
	"stream" text NOT NULL,
	"seq" bigint NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_erasures_stream_seq_pk" PRIMARY KEY("stream","seq")
);
--> statement-breakpoint
CREATE TABLE "profiles"."stream_locations" (
	"stream" text NOT NULL,
	"seq" bigint NOT NULL,
	"partition_key" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_locations_stream_seq_pk" PRIMARY KEY("stream","seq")
);
--> statement-breakpoint
ALTER TABLE "profiles"."events" ADD COLUMN "stream_seq" bigint;--> statement-breakpoint
CREATE INDEX "stream_locations_partition_key_idx" ON "profiles"."stream_locations" USING btree ("partition_key");--> statement-breakpoint
CREATE INDEX "stream_locations_at_idx" ON "profiles"."stream_locations" USING btree ("at");