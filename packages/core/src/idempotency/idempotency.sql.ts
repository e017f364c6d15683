import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** The first response to each `Idempotency-Key` of a project, replayed for 24 hours. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    projectId: uuid("project_id").notNull(),
    key: text("key").notNull(),
    /** The operation and a SHA-256 of its input: the same key with another body is refused. */
    operation: text("operation").notNull(),
    requestHash: text("request_hash").notNull(),
    response: jsonb("response").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.key] }),
    index("idempotency_keys_created_at_idx").on(t.createdAt),
  ],
);
