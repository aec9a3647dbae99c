CREATE TABLE "offers"."earn_rules" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"rule" jsonb NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."loyalty_accounts" (
	"profile_id" uuid PRIMARY KEY NOT NULL,
	"available" bigint DEFAULT 0 NOT NULL,
	"pending" bigint DEFAULT 0 NOT NULL,
	"lifetime_earned" bigint DEFAULT 0 NOT NULL,
	"tier" text,
	"tier_since" timestamp with time zone,
	"tier_review_at" timestamp with time zone,
	"birthday" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "loyalty_accounts_available_nonnegative" CHECK ("offers"."loyalty_accounts"."available" >= 0),
	CONSTRAINT "loyalty_accounts_pending_nonnegative" CHECK ("offers"."loyalty_accounts"."pending" >= 0)
);
--> statement-breakpoint
CREATE TABLE "offers"."loyalty_program" (
	"id" integer PRIMARY KEY NOT NULL,
	"return_window_days" integer DEFAULT 14 NOT NULL,
	"cap_per_order" bigint,
	"cap_per_day" bigint,
	"expire_after_days" integer,
	"expiring_notice_days" integer DEFAULT 30 NOT NULL,
	"tier_window_days" integer DEFAULT 365 NOT NULL,
	"tier_grace_days" integer DEFAULT 30 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."order_multipliers" (
	"redemption_id" uuid PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"profile_id" uuid NOT NULL,
	"multiplier" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."point_lots" (
	"entry_id" bigint PRIMARY KEY NOT NULL,
	"profile_id" uuid NOT NULL,
	"order_id" text,
	"order_amount" double precision,
	"order_currency" text,
	"refunded_amount" double precision DEFAULT 0 NOT NULL,
	"earned" bigint NOT NULL,
	"earned_at" timestamp with time zone NOT NULL,
	"available_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"points" bigint NOT NULL,
	"remaining" bigint NOT NULL,
	"released" boolean DEFAULT false NOT NULL,
	"expiry_noticed" boolean DEFAULT false NOT NULL,
	CONSTRAINT "point_lots_remaining_within" CHECK ("offers"."point_lots"."remaining" >= 0 and "offers"."point_lots"."remaining" <= "offers"."point_lots"."points")
);
--> statement-breakpoint
CREATE TABLE "offers"."points_ledger" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"profile_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"available_delta" bigint NOT NULL,
	"pending_delta" bigint NOT NULL,
	"cause" text NOT NULL,
	"order_id" text,
	"reason" text,
	"actor" text,
	"details" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."tiers" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"rank" integer NOT NULL,
	"min_points" bigint,
	"min_spend" double precision,
	"spend_currency" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tiers_rank_unique" UNIQUE("rank")
);
--> statement-breakpoint
CREATE INDEX "loyalty_accounts_birthday_idx" ON "offers"."loyalty_accounts" USING btree ("birthday") WHERE "offers"."loyalty_accounts"."birthday" is not null;--> statement-breakpoint
CREATE INDEX "order_multipliers_order_idx" ON "offers"."order_multipliers" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "point_lots_profile_idx" ON "offers"."point_lots" USING btree ("profile_id","earned_at","entry_id");--> statement-breakpoint
CREATE INDEX "point_lots_due_idx" ON "offers"."point_lots" USING btree ("available_at") WHERE not "offers"."point_lots"."released";--> statement-breakpoint
CREATE INDEX "point_lots_expiry_idx" ON "offers"."point_lots" USING btree ("expires_at") WHERE "offers"."point_lots"."released" and "offers"."point_lots"."remaining" > 0;--> statement-breakpoint
CREATE UNIQUE INDEX "point_lots_order_idx" ON "offers"."point_lots" USING btree ("order_id") WHERE "offers"."point_lots"."order_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "points_ledger_cause_idx" ON "offers"."points_ledger" USING btree ("kind","cause");--> statement-breakpoint
CREATE INDEX "points_ledger_profile_idx" ON "offers"."points_ledger" USING btree ("profile_id","id");--> statement-breakpoint
INSERT INTO "offers"."loyalty_program" ("id") VALUES (1) ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- A tier's name is in the reasons the personalized API gives: a change of a tier moves catalog_version (per row: a statement that changes none moves nothing).
CREATE OR REPLACE FUNCTION "offers"."bump_catalog_version_on_tiers"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "offers"."catalog_version" SET "version" = "version" + 1 WHERE "id" = 1;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "tiers_catalog_changed" AFTER INSERT OR UPDATE OR DELETE ON "offers"."tiers"
  FOR EACH ROW EXECUTE FUNCTION "offers"."bump_catalog_version_on_tiers"();
