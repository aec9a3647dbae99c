CREATE TABLE "profiles"."inbox" (
	"consumer" text NOT NULL,
	"envelope_id" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_envelope_id_pk" PRIMARY KEY("consumer","envelope_id")
);
--> statement-breakpoint
ALTER TABLE "profiles"."outbox" ADD COLUMN "published_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "inbox_applied_at_idx" ON "profiles"."inbox" USING btree ("applied_at");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "profiles"."outbox" USING btree ("id") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "profiles"."outbox" USING btree ("published_at");--> statement-breakpoint
-- The event log was the EVENTS consumer's record of applied messageIds until the inbox: carry it over.
INSERT INTO "profiles"."inbox" ("consumer", "envelope_id", "applied_at") SELECT 'profiles-events', "id", "stored_at" FROM "profiles"."events" ON CONFLICT DO NOTHING;
