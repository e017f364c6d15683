ALTER TABLE "audit_log" ADD COLUMN "key_id" uuid;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "channel" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "recipient_hmac" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "status" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "request_id" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "recipient_hmac" text;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "key_id" uuid;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "request_id" text;