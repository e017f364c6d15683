import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { projects } from "../project/project.sql";

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id),
    name: text("name").notNull(),
    /** SHA-256 of the key, hex. The key itself is shown once and never stored. */
    hash: text("hash").notNull().unique(),
    /** First and last four characters, enough to recognise a key in a list. */
    hint: text("hint").notNull(),
    scopes: text("scopes").array().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [index("api_keys_project_id_idx").on(t.projectId)],
);
