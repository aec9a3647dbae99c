CREATE TABLE "profiles"."feature_cuts" (
	"name" text PRIMARY KEY NOT NULL,
	"cuts" jsonb NOT NULL,
	"population" integer NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles"."identities" (
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"profile_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identities_kind_value_pk" PRIMARY KEY("kind","value")
);
--> statement-breakpoint
CREATE TABLE "profiles"."identity_blocklist" (
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_blocklist_kind_value_pk" PRIMARY KEY("kind","value")
);
--> statement-breakpoint
CREATE TABLE "profiles"."merges" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"from_profile_id" uuid NOT NULL,
	"into_profile_id" uuid NOT NULL,
	"status" text NOT NULL,
	"reason" text NOT NULL,
	"identifier" text NOT NULL,
	"event_id" text,
	"detail" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"partition_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles"."profile_features" (
	"profile_id" uuid PRIMARY KEY NOT NULL,
	"first_seen" timestamp with time zone,
	"last_seen" timestamp with time zone,
	"event_count" integer DEFAULT 0 NOT NULL,
	"orders" integer DEFAULT 0 NOT NULL,
	"revenue" bigint DEFAULT 0 NOT NULL,
	"currency" text NOT NULL,
	"revenue_other" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"first_order_at" timestamp with time zone,
	"last_order_at" timestamp with time zone,
	"aov" bigint,
	"recency_days" integer,
	"tenure_days" integer,
	"rfm_r" smallint,
	"rfm_f" smallint,
	"rfm_m" smallint,
	"p_alive" real,
	"expected_orders_90d" real,
	"clv" bigint,
	"churn_risk" real,
	"lifecycle_stage" text NOT NULL,
	"category_scores" jsonb NOT NULL,
	"category_affinity" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"top_category" text,
	"top_category_share" real,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles"."profiles" (
	"id" uuid PRIMARY KEY NOT NULL,
	"traits" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"trait_times" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"merge_count" integer DEFAULT 0 NOT NULL,
	"merged_into" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"erased_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "identities_profile_id_idx" ON "profiles"."identities" USING btree ("profile_id");--> statement-breakpoint
CREATE INDEX "merges_from_idx" ON "profiles"."merges" USING btree ("from_profile_id");--> statement-breakpoint
CREATE INDEX "merges_into_idx" ON "profiles"."merges" USING btree ("into_profile_id");--> statement-breakpoint
CREATE INDEX "profiles_merged_into_idx" ON "profiles"."profiles" USING btree ("merged_into") WHERE merged_into is not null;--> statement-breakpoint
CREATE INDEX "events_profile_time_idx" ON "profiles"."events" USING btree ("profile_id","occurred_at" DESC NULLS LAST,"id" DESC NULLS LAST);