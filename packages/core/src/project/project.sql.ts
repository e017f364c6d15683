import { jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const projects = pgTable("projects", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  /** Overrides of the default send limits, per channel (see ratelimit/). */
  limits: jsonb("limits").notNull().default({}),
});
