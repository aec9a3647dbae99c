DROP INDEX "segmentation"."outbox_unpublished_idx";--> statement-breakpoint
DROP INDEX "segmentation"."outbox_published_at_idx";--> statement-breakpoint
DROP INDEX "segmentation"."stream_locations_at_idx";