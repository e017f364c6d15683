import {
  bigserial,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * Every fact Pregón published, as the audit consumer received it. Append-only: the code has no
 * update or delete of it, and a trigger (migration 0007) refuses both.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    projectId: uuid("project_id").notNull(),
    type: text("type").notNull(),
    /** The delivery, notification or OTP the fact is about. */
    subjectId: uuid("subject_id"),
    notificationId: uuid("notification_id"),
    /** The API key behind the fact, when there was one. */
    keyId: uuid("key_id"),
    channel: text("channel"),
    /** Deliveries: HMAC of the recipient's address (never the address). */
    recipientHmac: text("recipient_hmac"),
    /** Deliveries: the status the fact moved it to. */
    status: text("status"),
    /** The API request that led to the fact. */
    requestId: text("request_id"),
    /** The fact as published (ids and counts only). */
    fact: jsonb("fact").notNull(),
    /** SHA-256 of the published body: a fact delivered twice is recorded once. */
    factHash: text("fact_hash").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("audit_log_fact_hash_idx").on(t.factHash),
    index("audit_log_project_idx").on(t.projectId, t.id),
    index("audit_log_subject_idx").on(t.projectId, t.subjectId),
    index("audit_log_notification_idx").on(t.projectId, t.notificationId),
  ],
);
