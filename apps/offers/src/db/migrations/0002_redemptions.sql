CREATE TABLE "offers"."redemption_requests" (
	"idempotency_key" text PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"status_code" integer NOT NULL,
	"response" jsonb NOT NULL,
	"redemption_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."redemptions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"idempotency_key" text NOT NULL,
	"offer_id" uuid NOT NULL,
	"offer_key" text NOT NULL,
	"profile_id" uuid NOT NULL,
	"code" text,
	"order_id" text,
	"order_amount" bigint,
	"order_currency" text,
	"reward_type" text NOT NULL,
	"reward_value" bigint,
	"reward_currency" text,
	"budget_kind" text NOT NULL,
	"budget_units" bigint NOT NULL,
	"status" text DEFAULT 'redeemed' NOT NULL,
	"redeemed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"cancelled_at" timestamp with time zone,
	CONSTRAINT "redemptions_seq_unique" UNIQUE("seq"),
	CONSTRAINT "redemptions_idempotency_key_unique" UNIQUE("idempotency_key"),
	CONSTRAINT "redemptions_budget_units_nonnegative" CHECK ("offers"."redemptions"."budget_units" >= 0)
);
--> statement-breakpoint
ALTER TABLE "offers"."coupon_codes" ADD COLUMN "reserved_for" uuid;--> statement-breakpoint
CREATE INDEX "redemptions_customer_idx" ON "offers"."redemptions" USING btree ("offer_id","profile_id","redeemed_at");--> statement-breakpoint
CREATE INDEX "redemptions_offer_seq_idx" ON "offers"."redemptions" USING btree ("offer_id","seq");