CREATE SCHEMA "offers";
--> statement-breakpoint
CREATE TABLE "offers"."offers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"reward" jsonb NOT NULL,
	"eligibility" jsonb NOT NULL,
	"placements" text[] NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"starts_at" timestamp with time zone,
	"ends_at" timestamp with time zone,
	"budget_total" integer,
	"budget_used" integer DEFAULT 0 NOT NULL,
	"per_customer_limit" integer,
	"status" text DEFAULT 'draft' NOT NULL,
	CONSTRAINT "offers_key_unique" UNIQUE("key")
);
