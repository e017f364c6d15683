import { boolean, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { projects } from "../project/project.sql";

/** A user's device that takes push notifications: its token and, once made, its SNS endpoint. */
export const devices = pgTable(
  "devices",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id),
    /** The app's own id for the user. */
    userId: text("user_id").notNull(),
    platform: text("platform").notNull(),
    token: text("token").notNull(),
    /** The SNS platform endpoint, created on the first send and reused. */
    endpointArn: text("endpoint_arn"),
    /** false once the provider reports the endpoint disabled (app removed, token expired). */
    active: boolean("active").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("devices_token_idx").on(t.projectId, t.platform, t.token),
    index("devices_user_idx").on(t.projectId, t.userId),
  ],
);
