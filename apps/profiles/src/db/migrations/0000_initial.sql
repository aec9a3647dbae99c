CREATE SCHEMA "profiles";
--> statement-breakpoint
CREATE TABLE "profiles"."events" (
	"id" text PRIMARY KEY NOT NULL,
	"profile_id" uuid,
	"type" text NOT NULL,
	"name" text,
	"user_id" text,
	"anonymous_id" text,
	"properties" jsonb NOT NULL,
	"context" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "events_user_id_idx" ON "profiles"."events" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "events_anonymous_id_idx" ON "profiles"."events" USING btree ("anonymous_id");