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
    /** The message as sent: sender and the template sources rendered per recipient. */
    content: jsonb("content").notNull(),
    /** Variables shared by every recipient. */
    variables: jsonb("variables").notNull(),
    tags: jsonb("tags").notNull(),
    accepted: integer("accepted").notNull(),
    suppressed: integer("suppressed").notNull(),
    duplicates: integer("duplicates").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("notifications_project_id_idx").on(t.projectId, t.createdAt)],
);
