CREATE TABLE "categories" (
	"project_id" uuid NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"opted_in_by_default" boolean NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "categories_project_id_key_pk" PRIMARY KEY("project_id","key")
);
--> statement-breakpoint
CREATE TABLE "preferences" (
	"project_id" uuid NOT NULL,
	"category" text NOT NULL,
	"recipient_hmac" text NOT NULL,
	"subscribed" boolean NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "preferences_project_id_category_recipient_hmac_pk" PRIMARY KEY("project_id","category","recipient_hmac")
);
--> statement-breakpoint
CREATE TABLE "reputation_pauses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"scope" text NOT NULL,
	"bounce_rate" double precision NOT NULL,
	"complaint_rate" double precision NOT NULL,
	"sent" integer NOT NULL,
	"paused_at" timestamp with time zone NOT NULL,
	"resumed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "unsubscribed" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "reputation_pauses_standing_idx" ON "reputation_pauses" USING btree ("scope") WHERE resumed_at is null;--> statement-breakpoint
CREATE INDEX "webhook_messages_created_idx" ON "webhook_messages" USING btree ("created_at");