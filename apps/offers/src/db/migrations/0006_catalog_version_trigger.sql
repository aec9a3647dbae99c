-- The personalized offers API keeps the active catalog in memory and reloads it when
-- offers.catalog_version moves. Budget use alone does not move it (every redemption changes it);
-- a budget running out, or coming back with a cancel, does.
INSERT INTO "offers"."catalog_version" ("id", "version") VALUES (1, 1) ON CONFLICT ("id") DO NOTHING;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "offers"."bump_catalog_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
    AND (to_jsonb(NEW) - 'budget_used' - 'updated_at') = (to_jsonb(OLD) - 'budget_used' - 'updated_at')
    AND (OLD.budget_kind = 'none' OR OLD.budget_used < OLD.budget_total) = (NEW.budget_kind = 'none' OR NEW.budget_used < NEW.budget_total) THEN
    RETURN NULL;
  END IF;
  UPDATE "offers"."catalog_version" SET "version" = "version" + 1 WHERE "id" = 1;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "offers_catalog_changed" AFTER INSERT OR UPDATE OR DELETE ON "offers"."offers"
  FOR EACH ROW EXECUTE FUNCTION "offers"."bump_catalog_version"();
