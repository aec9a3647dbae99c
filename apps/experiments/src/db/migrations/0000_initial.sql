CREATE SCHEMA "experiments";
--> statement-breakpoint
CREATE TABLE "experiments"."experiments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"hypothesis" text,
	"targeting" jsonb NOT NULL,
	"variants" jsonb NOT NULL,
	"metrics" jsonb NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"seed" text NOT NULL,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	CONSTRAINT "experiments_key_unique" UNIQUE("key")
);
