CREATE TABLE "offers"."experiment_rules" (
	"key" text PRIMARY KEY NOT NULL,
	"experiment_id" uuid NOT NULL,
	"revision" integer NOT NULL,
	"status" text NOT NULL,
	"rules" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Experiments change what the personalized API serves: a change of their rules moves catalog_version (the tiers' function: it only bumps the version).
CREATE TRIGGER "experiment_rules_catalog_changed" AFTER INSERT OR UPDATE OR DELETE ON "offers"."experiment_rules"
  FOR EACH ROW EXECUTE FUNCTION "offers"."bump_catalog_version_on_tiers"();
