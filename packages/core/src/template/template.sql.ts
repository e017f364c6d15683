import { pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * The current version of each template of a project, per locale. The versions themselves are
 * immutable objects in S3; `version` is the object's key, recorded on every notification that uses it.
 */
export const templates = pgTable(
  "templates",
  {
    projectId: uuid("project_id").notNull(),
    key: text("key").notNull(),
    /** A BCP 47 tag (`es`, `es-MX`) or `default`. */
    locale: text("locale").notNull(),
    version: text("version").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.key, t.locale] })],
);
