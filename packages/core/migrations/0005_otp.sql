CREATE TABLE "fraud_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"key_id" uuid,
	"otp_id" uuid,
	"destination_hmac" text,
	"client_ip_hmac" text,
	"rule" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "otp_failures" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"destination_hmac" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "otps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"key_id" uuid,
	"channel" text NOT NULL,
	"destination_hmac" text NOT NULL,
	"destination_masked" text NOT NULL,
	"purpose" text NOT NULL,
	"length" integer NOT NULL,
	"status" text NOT NULL,
	"code_hmac" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"delivery_id" uuid,
	"client_ip_hmac" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"verified_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "fraud_events_project_idx" ON "fraud_events" USING btree ("project_id","at");--> statement-breakpoint
CREATE INDEX "otp_failures_destination_idx" ON "otp_failures" USING btree ("project_id","destination_hmac","at");--> statement-breakpoint
CREATE INDEX "otps_destination_idx" ON "otps" USING btree ("project_id","destination_hmac","created_at");--> statement-breakpoint
CREATE INDEX "otps_ip_idx" ON "otps" USING btree ("project_id","client_ip_hmac","created_at") WHERE client_ip_hmac is not null;--> statement-breakpoint
CREATE INDEX "otps_expires_at_idx" ON "otps" USING btree ("expires_at");