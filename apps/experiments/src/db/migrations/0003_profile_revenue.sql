CREATE TABLE "experiments"."profile_revenue" (
	"profile_id" uuid PRIMARY KEY NOT NULL,
	"revenue" double precision NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
