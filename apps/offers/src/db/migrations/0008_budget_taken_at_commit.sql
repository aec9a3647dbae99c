-- A redemption's budget is taken at COMMIT by this deferred constraint trigger (ADR 20): the offer's
-- row is then locked from the take to the end of the commit inside PostgreSQL, never across a round
-- trip to the service, whose busy event loop had let one redemption of an offer commit per turn.
-- It refuses with SQLSTATE SB001 (the whole transaction rolls back) and writes offers.budget_alert
-- into the outbox for each threshold of BUDGET_ALERT_THRESHOLDS (80, 100 %) the take crosses:
-- takes are serialised by the row lock, so each crossing belongs to exactly one redemption.
CREATE FUNCTION "offers"."take_redemption_budget"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  offer "offers"."offers"%ROWTYPE;
  threshold integer;
  at text := to_char(NEW.redeemed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
BEGIN
  IF NEW.budget_kind = 'none' THEN
    RETURN NULL;
  END IF;
  UPDATE "offers"."offers" SET "budget_used" = "budget_used" + NEW.budget_units
    WHERE "id" = NEW.offer_id AND "status" = 'active' AND "budget_kind" = NEW.budget_kind AND "budget_used" + NEW.budget_units <= "budget_total"
    RETURNING * INTO offer;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'offer % cannot take % budget units', NEW.offer_key, NEW.budget_units USING ERRCODE = 'SB001';
  END IF;
  FOREACH threshold IN ARRAY ARRAY[80, 100] LOOP
    -- In numeric: budget_used * 100 may exceed bigint.
    IF (offer.budget_used - NEW.budget_units)::numeric * 100 < threshold::numeric * offer.budget_total
      AND offer.budget_used::numeric * 100 >= threshold::numeric * offer.budget_total THEN
      INSERT INTO "offers"."outbox" ("subject", "envelope", "partition_key") VALUES (
        'offers.budget_alert',
        jsonb_build_object(
          'id', 'redemption-' || NEW.id || '-budget-' || threshold,
          'type', 'offers.budget_alert',
          'occurredAt', at,
          'data', jsonb_build_object(
            'offerId', offer.id, 'offerKey', offer.key, 'threshold', threshold, 'budgetType', offer.budget_kind,
            'used', offer.budget_used, 'total', offer.budget_total,
            'currency', CASE WHEN offer.budget_kind = 'amount' THEN offer.budget_currency END,
            'redemptionId', NEW.id, 'at', at)),
        offer.id::text);
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "redemptions_take_budget" AFTER INSERT ON "offers"."redemptions"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "offers"."take_redemption_budget"();
