import { bigserial, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** Every refusal of the OTP rules and the SMS countries: who, which rule, when. */
export const fraudEvents = pgTable(
  "fraud_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    projectId: uuid("project_id").notNull(),
    keyId: uuid("key_id"),
    otpId: uuid("otp_id"),
    destinationHmac: text("destination_hmac"),
    clientIpHmac: text("client_ip_hmac"),
    rule: text("rule").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [index("fraud_events_project_idx").on(t.projectId, t.at)],
);
