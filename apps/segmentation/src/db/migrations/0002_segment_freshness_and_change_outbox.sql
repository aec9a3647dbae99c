ALTER TABLE "segmentation"."membership_changes" ADD COLUMN "published_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "segmentation"."segments" ADD COLUMN "evaluated_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "membership_changes_unpublished_idx" ON "segmentation"."membership_changes" USING btree ("seq") WHERE published_at is null;