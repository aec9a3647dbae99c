CREATE SCHEMA "ingestion";
--> statement-breakpoint
CREATE TABLE "ingestion"."sources" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"write_key_hash" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sources_write_key_hash_unique" UNIQUE("write_key_hash")
);
