ALTER TABLE "notifications" ADD COLUMN "completed_at" timestamp with time zone;--> statement-breakpoint
-- Sends that had nothing left to send before this column existed count as completed when it was
-- added: the sweeper then completes (and announces) only the ones that complete from now on.
UPDATE "notifications" n SET "completed_at" = now() WHERE NOT EXISTS (SELECT 1 FROM "deliveries" d WHERE d."notification_id" = n."id" AND d."status" IN ('queued', 'sending'));--> statement-breakpoint
CREATE INDEX "notifications_incomplete_idx" ON "notifications" USING btree ("created_at") WHERE completed_at is null;
