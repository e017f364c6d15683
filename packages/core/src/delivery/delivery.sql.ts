import { sql } from "drizzle-orm";
import {
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { notifications } from "../notification/notification.sql";

/** One message to one recipient, with its own status. */
export const deliveries = pgTable(
  "deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    notificationId: uuid("notification_id")
      .notNull()
      .references(() => notifications.id),
    projectId: uuid("project_id").notNull(),
    /** Place in the request's recipient list: the order deliveries are listed in. */
    position: integer("position").notNull(),
    address: text("address").notNull(),
    /** HMAC of the address (as OTP destinations are kept): what audit rows carry instead of it. */
    recipientHmac: text("recipient_hmac"),
    name: text("name"),
    variables: jsonb("variables"),
    status: text("status").notNull(),
    /** Sends tried (each lease counts one). */
    attempts: integer("attempts").notNull().default(0),
    /** While `sending`: until when the sender that leased it owns it. */
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    providerMessageId: text("provider_message_id"),
    /** SMS: the parts the message was billed as (160 GSM-7 or 70 UCS-2 characters each). */
    segments: integer("segments"),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("deliveries_notification_position_idx").on(t.notificationId, t.position),
    index("deliveries_sending_lease_idx").on(t.leaseUntil).where(sql`status = 'sending'`),
    // The sweeper looks for deliveries queued for days (their queue message may be gone).
    index("deliveries_queued_idx").on(t.updatedAt).where(sql`status = 'queued'`),
    // Whether a notification has deliveries left to send: asked after every queue message.
    index("deliveries_pending_idx")
      .on(t.notificationId)
      .where(sql`status in ('queued', 'sending')`),
  ],
);
