import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { projects } from "../project/project.sql";

/** One send request: its content and who asked. Each recipient is a delivery. */
export const notifications = pgTable(
  "notifications",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id),
    channel: text("channel").notNull(),
    /** The API key and the request that asked for it. */
    keyId: uuid("key_id"),
    requestId: text("request_id"),
    /** The message as sent: its From address and the template sources rendered per recipient. */
    content: jsonb("content").notNull(),
    /** Variables shared by every recipient. */
    variables: jsonb("variables").notNull(),
    tags: jsonb("tags").notNull(),
    accepted: integer("accepted").notNull(),
    suppressed: integer("suppressed").notNull(),
    unsubscribed: integer("unsubscribed").notNull().default(0),
    duplicates: integer("duplicates").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    /** When none of its deliveries was left to send (its `notification.completed` fact's time). */
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [
    index("notifications_project_id_idx").on(t.projectId, t.createdAt),
    // The sweeper looks among the notifications not completed yet.
    index("notifications_incomplete_idx").on(t.createdAt).where(sql`completed_at is null`),
  ],
);
