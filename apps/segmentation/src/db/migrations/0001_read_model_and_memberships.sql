CREATE TABLE "segmentation"."behaviour_facts" (
	"event_id" text PRIMARY KEY NOT NULL,
	"profile_id" uuid NOT NULL,
	"name" text NOT NULL,
	"props" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "segmentation"."membership_changes" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"segment_id" uuid NOT NULL,
	"profile_id" uuid NOT NULL,
	"change" text NOT NULL,
	"segment_version" integer NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "segmentation"."memberships" (
	"segment_id" uuid NOT NULL,
	"profile_id" uuid NOT NULL,
	"since" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_segment_id_profile_id_pk" PRIMARY KEY("segment_id","profile_id")
);
--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view" (
	"profile_id" uuid PRIMARY KEY NOT NULL,
	"traits" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"features" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "behaviour_facts_profile_idx" ON "segmentation"."behaviour_facts" USING btree ("profile_id","occurred_at");--> statement-breakpoint
CREATE INDEX "behaviour_facts_name_idx" ON "segmentation"."behaviour_facts" USING btree ("name","occurred_at");--> statement-breakpoint
CREATE INDEX "membership_changes_segment_idx" ON "segmentation"."membership_changes" USING btree ("segment_id","seq");--> statement-breakpoint
CREATE INDEX "membership_changes_profile_idx" ON "segmentation"."membership_changes" USING btree ("profile_id");--> statement-breakpoint
CREATE INDEX "memberships_profile_idx" ON "segmentation"."memberships" USING btree ("profile_id");