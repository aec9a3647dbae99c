DROP INDEX "profiles"."outbox_unpublished_idx";--> statement-breakpoint
DROP INDEX "profiles"."outbox_published_at_idx";--> statement-breakpoint
DROP INDEX "profiles"."stream_locations_at_idx";