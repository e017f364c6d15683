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
CREATE UNIQUE INDEX "reputation_pauses_standing_idx" ON "reputation_pauses" USING btree ("scope") WHERE resumed_at is null;