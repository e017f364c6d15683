import { boolean, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * The kinds of bulk email a project sends (`newsletter`, `product-updates`): what recipients
 * unsubscribe from. `transactional` is built in and never stored.
 */
export const categories = pgTable(
  "categories",
  {
    projectId: uuid("project_id").notNull(),
    key: text("key").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    /** Whether a recipient who never said otherwise is sent this category. */
    optedInByDefault: boolean("opted_in_by_default").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.key] })],
);
