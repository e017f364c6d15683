import { pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** Addresses and numbers a project must not send to (bounces, complaints, requests to stop). */
export const suppressions = pgTable(
  "suppressions",
  {
    projectId: uuid("project_id").notNull(),
    channel: text("channel").notNull(),
    /** Lower-cased email address or E.164 number. */
    address: text("address").notNull(),
    reason: text("reason").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.channel, t.address] })],
);
