ALTER TABLE "profiles"."events" ADD COLUMN "source_id" text;--> statement-breakpoint
ALTER TABLE "profiles"."events" ADD COLUMN "traits" jsonb DEFAULT '{}'::jsonb NOT NULL;