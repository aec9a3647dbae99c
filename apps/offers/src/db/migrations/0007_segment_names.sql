CREATE TABLE "offers"."segment_names" (
	"segment_id" uuid PRIMARY KEY NOT NULL,
	"segment_key" text NOT NULL,
	"name" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
