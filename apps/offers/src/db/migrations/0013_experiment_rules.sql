CREATE TABLE "offers"."experiment_rules" (
	"key" text PRIMARY KEY NOT NULL,
	"experiment_id" uuid NOT NULL,
	"revision" integer NOT NULL,
	"status" text NOT NULL,
	"rules" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- What the personalized API serves depends on tiers (their names in reasons) and on running experiments:
-- a change to either moves catalog_version, through one function (it was the tiers' own until now).
CREATE OR REPLACE FUNCTION "offers"."bump_catalog_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "offers"."catalog_version" SET "version" = "version" + 1 WHERE "id" = 1;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS "tiers_catalog_changed" ON "offers"."tiers";
--> statement-breakpoint
CREATE TRIGGER "tiers_catalog_changed" AFTER INSERT OR UPDATE OR DELETE ON "offers"."tiers"
  FOR EACH ROW EXECUTE FUNCTION "offers"."bump_catalog_version"();
--> statement-breakpoint
DROP FUNCTION IF EXISTS "offers"."bump_catalog_version_on_tiers"();
--> statement-breakpoint
CREATE TRIGGER "experiment_rules_catalog_changed" AFTER INSERT OR UPDATE OR DELETE ON "offers"."experiment_rules"
  FOR EACH ROW EXECUTE FUNCTION "offers"."bump_catalog_version"();
