import { boolean, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * What a recipient chose for a category of a project's email. The recipient is known by the HMAC
 * of their address (as deliveries and facts know them): an unsubscribe link records a choice
 * without the address ever being in it.
 */
export const preferences = pgTable(
  "preferences",
  {
    projectId: uuid("project_id").notNull(),
    category: text("category").notNull(),
    recipientHmac: text("recipient_hmac").notNull(),
    subscribed: boolean("subscribed").notNull(),
    /** `link`: the recipient, through a signed link; `api`: the project, through the API. */
    source: text("source").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.category, t.recipientHmac] })],
);
