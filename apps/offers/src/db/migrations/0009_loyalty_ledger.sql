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
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offers"."pending_points" (
	"earn_entry_id" bigint PRIMARY KEY NOT NULL,
	"profile_id" uuid NOT NULL,
	"points" bigint NOT NULL,
	"available_at" timestamp with time zone NOT NULL
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
CREATE INDEX "pending_points_due_idx" ON "offers"."pending_points" USING btree ("available_at");--> statement-breakpoint
CREATE UNIQUE INDEX "points_ledger_cause_idx" ON "offers"."points_ledger" USING btree ("kind","cause");--> statement-breakpoint
CREATE INDEX "points_ledger_profile_idx" ON "offers"."points_ledger" USING btree ("profile_id","id");--> statement-breakpoint
INSERT INTO "offers"."loyalty_program" ("id") VALUES (1) ON CONFLICT DO NOTHING;
