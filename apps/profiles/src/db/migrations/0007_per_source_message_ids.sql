-- messageIds are unique per source (ADR 15): the event log's key becomes (source_id, id).
UPDATE "profiles"."events" SET "source_id" = '' WHERE "source_id" IS NULL;--> statement-breakpoint
ALTER TABLE "profiles"."events" DROP CONSTRAINT "events_pkey";--> statement-breakpoint
ALTER TABLE "profiles"."events" ALTER COLUMN "source_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "profiles"."events" ADD CONSTRAINT "events_source_id_id_pk" PRIMARY KEY("source_id","id");--> statement-breakpoint
CREATE INDEX "events_id_idx" ON "profiles"."events" USING btree ("id");--> statement-breakpoint
-- The inbox of the EVENTS consumer recorded bare messageIds; it now claims <source id>:<messageId>. Stored events carry
-- their source over (a client retry after the upgrade stays a duplicate); the ids of erased events, without a row, stay as they were.
UPDATE "profiles"."inbox" AS i SET "envelope_id" = e."source_id" || ':' || e."id" FROM "profiles"."events" AS e WHERE i."consumer" = 'profiles-events' AND i."envelope_id" = e."id";
