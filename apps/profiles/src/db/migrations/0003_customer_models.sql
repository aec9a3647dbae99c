CREATE TABLE "profiles"."customer_models" (
	"name" text PRIMARY KEY NOT NULL,
	"params" jsonb NOT NULL,
	"log_likelihood" double precision NOT NULL,
	"customers" integer NOT NULL,
	"iterations" integer NOT NULL,
	"converged" boolean NOT NULL,
	"fitted_at" timestamp with time zone DEFAULT now() NOT NULL
);
