CREATE TABLE "segmentation"."inbox" (
	"consumer" text NOT NULL,
	"envelope_id" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_envelope_id_pk" PRIMARY KEY("consumer","envelope_id")
);
--> statement-breakpoint
CREATE TABLE "segmentation"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"partition_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "segmentation"."membership_changes_unpublished_idx";--> statement-breakpoint
CREATE INDEX "inbox_applied_at_idx" ON "segmentation"."inbox" USING btree ("applied_at");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "segmentation"."outbox" USING btree ("id") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "segmentation"."outbox" USING btree ("published_at");--> statement-breakpoint
-- Changes the old change-log relay had not published yet move into the outbox, in order.
INSERT INTO "segmentation"."outbox" ("subject", "envelope", "partition_key")
SELECT 'segments.' || c.change,
  jsonb_build_object('id', 'segment-change-' || c.seq, 'type', 'segments.' || c.change, 'occurredAt', to_char(c.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'data', jsonb_build_object('seq', c.seq, 'segmentId', c.segment_id, 'segmentKey', coalesce(s.key, ''), 'segmentVersion', c.segment_version, 'profileId', c.profile_id, 'change', c.change,
      'at', to_char(c.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
  c.profile_id::text
FROM "segmentation"."membership_changes" c LEFT JOIN "segmentation"."segments" s ON s.id = c.segment_id
WHERE c.published_at IS NULL ORDER BY c.seq;--> statement-breakpoint
ALTER TABLE "segmentation"."membership_changes" DROP COLUMN "published_at";