ALTER TABLE "offers"."journey_enrollments" ADD COLUMN "failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "offers"."journey_enrollments" ADD COLUMN "last_error" text;