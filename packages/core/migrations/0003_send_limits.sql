CREATE TABLE "limit_refusals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"key_id" uuid,
	"rule" text NOT NULL,
	"limit" integer NOT NULL,
	"requested" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_counters" (
	"project_id" uuid NOT NULL,
	"rule" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "rate_counters_project_id_rule_window_start_pk" PRIMARY KEY("project_id","rule","window_start")
);
--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "limits" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "limit_refusals_project_idx" ON "limit_refusals" USING btree ("project_id","created_at");