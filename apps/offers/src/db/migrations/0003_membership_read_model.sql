CREATE TABLE "offers"."gone_profiles" (
	"profile_id" uuid PRIMARY KEY NOT NULL,
	"merged_into" uuid,
	"gone_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."membership_view" (
	"segment_id" uuid NOT NULL,
	"segment_key" text NOT NULL,
	"profile_id" uuid NOT NULL,
	"member" boolean NOT NULL,
	"seq" bigint NOT NULL,
	"rebuild_mark" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "membership_view_segment_id_profile_id_pk" PRIMARY KEY("segment_id","profile_id")
);
--> statement-breakpoint
CREATE TABLE "offers"."profile_facts" (
	"profile_id" uuid PRIMARY KEY NOT NULL,
	"lifecycle_stage" text,
	"top_category" text,
	"clv" double precision,
	"churn_risk" double precision,
	"p_alive" double precision,
	"propensities" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."profile_identifiers" (
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"profile_id" uuid NOT NULL,
	CONSTRAINT "profile_identifiers_kind_value_pk" PRIMARY KEY("kind","value")
);
--> statement-breakpoint
CREATE TABLE "offers"."read_model_state" (
	"id" text PRIMARY KEY NOT NULL,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"last_change_at" timestamp with time zone,
	"rebuild_mark" integer DEFAULT 0 NOT NULL,
	"rebuild_started_at" timestamp with time zone,
	"rebuild_finished_at" timestamp with time zone,
	"rebuild_snapshot_seq" bigint,
	"rebuild_rows" integer,
	"rebuild_error" text
);
--> statement-breakpoint
CREATE TABLE "offers"."removed_segments" (
	"segment_id" uuid PRIMARY KEY NOT NULL,
	"removed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "membership_view_profile_idx" ON "offers"."membership_view" USING btree ("profile_id","segment_key");--> statement-breakpoint
CREATE INDEX "profile_identifiers_profile_idx" ON "offers"."profile_identifiers" USING btree ("profile_id");