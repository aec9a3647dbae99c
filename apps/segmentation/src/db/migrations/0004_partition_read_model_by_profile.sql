-- Hand-written: Drizzle cannot declare partitions. The read model and the memberships are
-- hash-partitioned by profile id into 8 partitions (PROFILE_PARTITIONS in membership.repository.ts),
-- so a full recompute runs partition by partition on several connections (ADR 8). Existing rows are
-- copied over. behaviour_facts' key now includes profile_id, as a partitioned table's keys must.
ALTER TABLE "segmentation"."profile_view" RENAME TO "profile_view_unpartitioned";--> statement-breakpoint
ALTER TABLE "segmentation"."profile_view_unpartitioned" RENAME CONSTRAINT "profile_view_pkey" TO "profile_view_unpartitioned_pkey";--> statement-breakpoint
ALTER TABLE "segmentation"."behaviour_facts" RENAME TO "behaviour_facts_unpartitioned";--> statement-breakpoint
ALTER TABLE "segmentation"."behaviour_facts_unpartitioned" RENAME CONSTRAINT "behaviour_facts_pkey" TO "behaviour_facts_unpartitioned_pkey";--> statement-breakpoint
DROP INDEX "segmentation"."behaviour_facts_profile_idx";--> statement-breakpoint
DROP INDEX "segmentation"."behaviour_facts_name_idx";--> statement-breakpoint
ALTER TABLE "segmentation"."memberships" RENAME TO "memberships_unpartitioned";--> statement-breakpoint
ALTER TABLE "segmentation"."memberships_unpartitioned" RENAME CONSTRAINT "memberships_segment_id_profile_id_pk" TO "memberships_unpartitioned_pk";--> statement-breakpoint
DROP INDEX "segmentation"."memberships_profile_idx";--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view" (
	"profile_id" uuid PRIMARY KEY NOT NULL,
	"traits" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"features" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
) PARTITION BY HASH ("profile_id");--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view_p0" PARTITION OF "segmentation"."profile_view" FOR VALUES WITH (MODULUS 8, REMAINDER 0);--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view_p1" PARTITION OF "segmentation"."profile_view" FOR VALUES WITH (MODULUS 8, REMAINDER 1);--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view_p2" PARTITION OF "segmentation"."profile_view" FOR VALUES WITH (MODULUS 8, REMAINDER 2);--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view_p3" PARTITION OF "segmentation"."profile_view" FOR VALUES WITH (MODULUS 8, REMAINDER 3);--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view_p4" PARTITION OF "segmentation"."profile_view" FOR VALUES WITH (MODULUS 8, REMAINDER 4);--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view_p5" PARTITION OF "segmentation"."profile_view" FOR VALUES WITH (MODULUS 8, REMAINDER 5);--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view_p6" PARTITION OF "segmentation"."profile_view" FOR VALUES WITH (MODULUS 8, REMAINDER 6);--> statement-breakpoint
CREATE TABLE "segmentation"."profile_view_p7" PARTITION OF "segmentation"."profile_view" FOR VALUES WITH (MODULUS 8, REMAINDER 7);--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts" (
	"event_id" text NOT NULL,
	"profile_id" uuid NOT NULL,
	"name" text NOT NULL,
	"props" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "behaviour_facts_profile_id_event_id_pk" PRIMARY KEY("profile_id","event_id")
) PARTITION BY HASH ("profile_id");--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts_p0" PARTITION OF "segmentation"."behaviour_facts" FOR VALUES WITH (MODULUS 8, REMAINDER 0);--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts_p1" PARTITION OF "segmentation"."behaviour_facts" FOR VALUES WITH (MODULUS 8, REMAINDER 1);--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts_p2" PARTITION OF "segmentation"."behaviour_facts" FOR VALUES WITH (MODULUS 8, REMAINDER 2);--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts_p3" PARTITION OF "segmentation"."behaviour_facts" FOR VALUES WITH (MODULUS 8, REMAINDER 3);--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts_p4" PARTITION OF "segmentation"."behaviour_facts" FOR VALUES WITH (MODULUS 8, REMAINDER 4);--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts_p5" PARTITION OF "segmentation"."behaviour_facts" FOR VALUES WITH (MODULUS 8, REMAINDER 5);--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts_p6" PARTITION OF "segmentation"."behaviour_facts" FOR VALUES WITH (MODULUS 8, REMAINDER 6);--> statement-breakpoint
CREATE TABLE "segmentation"."behaviour_facts_p7" PARTITION OF "segmentation"."behaviour_facts" FOR VALUES WITH (MODULUS 8, REMAINDER 7);--> statement-breakpoint
CREATE INDEX "behaviour_facts_profile_idx" ON "segmentation"."behaviour_facts" USING btree ("profile_id","occurred_at");--> statement-breakpoint
CREATE INDEX "behaviour_facts_name_idx" ON "segmentation"."behaviour_facts" USING btree ("name","occurred_at");--> statement-breakpoint
CREATE TABLE "segmentation"."memberships" (
	"segment_id" uuid NOT NULL,
	"profile_id" uuid NOT NULL,
	"since" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_segment_id_profile_id_pk" PRIMARY KEY("segment_id","profile_id")
) PARTITION BY HASH ("profile_id");--> statement-breakpoint
CREATE TABLE "segmentation"."memberships_p0" PARTITION OF "segmentation"."memberships" FOR VALUES WITH (MODULUS 8, REMAINDER 0);--> statement-breakpoint
CREATE TABLE "segmentation"."memberships_p1" PARTITION OF "segmentation"."memberships" FOR VALUES WITH (MODULUS 8, REMAINDER 1);--> statement-breakpoint
CREATE TABLE "segmentation"."memberships_p2" PARTITION OF "segmentation"."memberships" FOR VALUES WITH (MODULUS 8, REMAINDER 2);--> statement-breakpoint
CREATE TABLE "segmentation"."memberships_p3" PARTITION OF "segmentation"."memberships" FOR VALUES WITH (MODULUS 8, REMAINDER 3);--> statement-breakpoint
CREATE TABLE "segmentation"."memberships_p4" PARTITION OF "segmentation"."memberships" FOR VALUES WITH (MODULUS 8, REMAINDER 4);--> statement-breakpoint
CREATE TABLE "segmentation"."memberships_p5" PARTITION OF "segmentation"."memberships" FOR VALUES WITH (MODULUS 8, REMAINDER 5);--> statement-breakpoint
CREATE TABLE "segmentation"."memberships_p6" PARTITION OF "segmentation"."memberships" FOR VALUES WITH (MODULUS 8, REMAINDER 6);--> statement-breakpoint
CREATE TABLE "segmentation"."memberships_p7" PARTITION OF "segmentation"."memberships" FOR VALUES WITH (MODULUS 8, REMAINDER 7);--> statement-breakpoint
CREATE INDEX "memberships_profile_idx" ON "segmentation"."memberships" USING btree ("profile_id");--> statement-breakpoint
INSERT INTO "segmentation"."profile_view" SELECT * FROM "segmentation"."profile_view_unpartitioned";--> statement-breakpoint
INSERT INTO "segmentation"."behaviour_facts" ("event_id", "profile_id", "name", "props", "occurred_at") SELECT "event_id", "profile_id", "name", "props", "occurred_at" FROM "segmentation"."behaviour_facts_unpartitioned";--> statement-breakpoint
INSERT INTO "segmentation"."memberships" SELECT * FROM "segmentation"."memberships_unpartitioned";--> statement-breakpoint
DROP TABLE "segmentation"."profile_view_unpartitioned";--> statement-breakpoint
DROP TABLE "segmentation"."behaviour_facts_unpartitioned";--> statement-breakpoint
DROP TABLE "segmentation"."memberships_unpartitioned";