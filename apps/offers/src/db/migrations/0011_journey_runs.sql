CREATE TABLE "offers"."customer_time_zones" (
	"profile_id" uuid PRIMARY KEY NOT NULL,
	"time_zone" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."journey_channels" (
	"key" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"url" text,
	"subject" text,
	"secrets" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cap_per_day" integer,
	"cap_per_week" integer,
	"retry_for_seconds" integer DEFAULT 86400 NOT NULL,
	"timeout_ms" integer DEFAULT 10000 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "journey_channels_target" CHECK (("offers"."journey_channels"."kind" = 'webhook' and "offers"."journey_channels"."url" is not null) or ("offers"."journey_channels"."kind" = 'nats' and "offers"."journey_channels"."subject" is not null))
);
--> statement-breakpoint
CREATE TABLE "offers"."journey_deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"enrollment_id" uuid NOT NULL,
	"step_id" text NOT NULL,
	"journey_key" text NOT NULL,
	"version" integer NOT NULL,
	"profile_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"give_up_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "offers"."journey_delivery_attempts" (
	"delivery_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	CONSTRAINT "journey_delivery_attempts_delivery_id_attempt_pk" PRIMARY KEY("delivery_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "offers"."journey_enrollments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"journey_key" text NOT NULL,
	"version" integer NOT NULL,
	"profile_id" uuid NOT NULL,
	"cause" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"step_id" text,
	"due_at" timestamp with time zone,
	"entered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"events" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."journey_entries" (
	"journey_key" text NOT NULL,
	"profile_id" uuid NOT NULL,
	"last_entered_at" timestamp with time zone NOT NULL,
	"entries" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "journey_entries_journey_key_profile_id_pk" PRIMARY KEY("journey_key","profile_id")
);
--> statement-breakpoint
CREATE TABLE "offers"."journey_step_runs" (
	"enrollment_id" uuid NOT NULL,
	"step_id" text NOT NULL,
	"journey_key" text NOT NULL,
	"version" integer NOT NULL,
	"outcome" text NOT NULL,
	"detail" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "journey_step_runs_enrollment_id_step_id_pk" PRIMARY KEY("enrollment_id","step_id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "journey_deliveries_step_idx" ON "offers"."journey_deliveries" USING btree ("enrollment_id","step_id");--> statement-breakpoint
CREATE INDEX "journey_deliveries_due_idx" ON "offers"."journey_deliveries" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "journey_deliveries_cap_idx" ON "offers"."journey_deliveries" USING btree ("profile_id","channel","created_at");--> statement-breakpoint
CREATE INDEX "journey_deliveries_journey_idx" ON "offers"."journey_deliveries" USING btree ("journey_key","step_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "journey_enrollments_cause_idx" ON "offers"."journey_enrollments" USING btree ("journey_key","cause");--> statement-breakpoint
CREATE INDEX "journey_enrollments_due_idx" ON "offers"."journey_enrollments" USING btree ("due_at") WHERE status = 'active';--> statement-breakpoint
CREATE INDEX "journey_enrollments_profile_idx" ON "offers"."journey_enrollments" USING btree ("profile_id") WHERE status = 'active';--> statement-breakpoint
CREATE INDEX "journey_enrollments_journey_idx" ON "offers"."journey_enrollments" USING btree ("journey_key","status");--> statement-breakpoint
CREATE INDEX "journey_step_runs_journey_idx" ON "offers"."journey_step_runs" USING btree ("journey_key","step_id");