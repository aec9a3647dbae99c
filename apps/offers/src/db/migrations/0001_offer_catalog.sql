CREATE TABLE "offers"."coupon_codes" (
	"offer_id" uuid NOT NULL,
	"code" text NOT NULL,
	"status" text DEFAULT 'available' NOT NULL,
	"batch" text NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "coupon_codes_offer_id_code_pk" PRIMARY KEY("offer_id","code")
);
--> statement-breakpoint
CREATE TABLE "offers"."inbox" (
	"consumer" text NOT NULL,
	"envelope_id" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_envelope_id_pk" PRIMARY KEY("consumer","envelope_id")
);
--> statement-breakpoint
CREATE TABLE "offers"."offer_changes" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"offer_id" uuid NOT NULL,
	"offer_key" text NOT NULL,
	"action" text NOT NULL,
	"actor" text NOT NULL,
	"changes" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"partition_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "offers"."stream_erasures" (
	"stream" text NOT NULL,
	"seq" bigint NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_erasures_stream_seq_pk" PRIMARY KEY("stream","seq")
);
--> statement-breakpoint
CREATE TABLE "offers"."stream_locations" (
	"stream" text NOT NULL,
	"seq" bigint NOT NULL,
	"partition_key" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_locations_stream_seq_pk" PRIMARY KEY("stream","seq")
);
--> statement-breakpoint
ALTER TABLE "offers"."offers" ALTER COLUMN "starts_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."offers" ALTER COLUMN "budget_total" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "offers"."offers" ALTER COLUMN "budget_used" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "description" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "categories" text[];--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "starts_at_local" text NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "ends_at_local" text;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "time_zone" text NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "budget_kind" text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "budget_currency" text;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "per_customer_period_days" integer;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "coupons" jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "revision" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "created_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "coupon_codes_batch_idx" ON "offers"."coupon_codes" USING btree ("offer_id","batch");--> statement-breakpoint
CREATE INDEX "coupon_codes_status_idx" ON "offers"."coupon_codes" USING btree ("offer_id","status");--> statement-breakpoint
CREATE INDEX "inbox_applied_at_idx" ON "offers"."inbox" USING btree ("applied_at");--> statement-breakpoint
CREATE INDEX "offer_changes_offer_idx" ON "offers"."offer_changes" USING btree ("offer_id","seq");--> statement-breakpoint
CREATE INDEX "stream_locations_partition_key_idx" ON "offers"."stream_locations" USING btree ("partition_key");--> statement-breakpoint
CREATE INDEX "offers_status_idx" ON "offers"."offers" USING btree ("status","key");--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD CONSTRAINT "offers_window_ordered" CHECK ("offers"."offers"."ends_at" is null or "offers"."offers"."ends_at" > "offers"."offers"."starts_at");--> statement-breakpoint
ALTER TABLE "offers"."offers" ADD CONSTRAINT "offers_budget_used_nonnegative" CHECK ("offers"."offers"."budget_used" >= 0);