ALTER TABLE "experiments"."experiments" ADD COLUMN "allocation" jsonb DEFAULT '{"type":"fixed"}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."experiments" ADD COLUMN "segment_weights" jsonb;--> statement-breakpoint
ALTER TABLE "experiments"."experiments" ADD COLUMN "allocated_at" timestamp with time zone;