CREATE TABLE "segmentation"."builtin_segments_seeded" (
	"key" text PRIMARY KEY NOT NULL,
	"seeded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "segmentation"."segment_references" (
	"service" text NOT NULL,
	"owner_kind" text NOT NULL,
	"owner_id" text NOT NULL,
	"owner_name" text NOT NULL,
	"segment_keys" text[] NOT NULL,
	"revision" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "segment_references_service_owner_kind_owner_id_pk" PRIMARY KEY("service","owner_kind","owner_id")
);
--> statement-breakpoint
CREATE INDEX "segment_references_keys_idx" ON "segmentation"."segment_references" USING gin ("segment_keys");