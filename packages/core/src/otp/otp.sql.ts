import { sql } from "drizzle-orm";
import { bigserial, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * One-time codes. The code itself is never stored: the sender generates it at send time and keeps
 * only HMAC-SHA256(pepper, id || code). Destinations are kept as HMACs too.
 */
export const otps = pgTable(
  "otps",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id").notNull(),
    keyId: uuid("key_id"),
    channel: text("channel").notNull(),
    destinationHmac: text("destination_hmac").notNull(),
    /** For people: `a***@example.com`. */
    destinationMasked: text("destination_masked").notNull(),
    purpose: text("purpose").notNull(),
    length: integer("length").notNull(),
    status: text("status").notNull(),
    codeHmac: text("code_hmac"),
    attempts: integer("attempts").notNull().default(0),
    deliveryId: uuid("delivery_id"),
    clientIpHmac: text("client_ip_hmac"),
    /** SMS: HMAC of the number without its last 4 digits (per-range limits). */
    prefixHmac: text("prefix_hmac"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    verifiedAt: timestamp("verified_at", { withTimezone: true }),
  },
  (t) => [
    index("otps_destination_idx").on(t.projectId, t.destinationHmac, t.createdAt),
    index("otps_ip_idx")
      .on(t.projectId, t.clientIpHmac, t.createdAt)
      .where(sql`client_ip_hmac is not null`),
    index("otps_expires_at_idx").on(t.expiresAt),
  ],
);

/** Each wrong code checked against a destination: 10 in an hour lock it, whatever the code. */
export const otpFailures = pgTable(
  "otp_failures",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    projectId: uuid("project_id").notNull(),
    destinationHmac: text("destination_hmac").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [index("otp_failures_destination_idx").on(t.projectId, t.destinationHmac, t.at)],
);
