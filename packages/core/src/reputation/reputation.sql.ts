import { sql } from "drizzle-orm";
import {
  doublePrecision,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * Pauses of bulk email for a bad reputation: a project's, or the whole account's. One pause stands
 * per scope until an operator resumes it.
 */
export const reputationPauses = pgTable(
  "reputation_pauses",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** `account` (every project), or the paused project's id. */
    scope: text("scope").notNull(),
    /** The rates (fractions) and the sends they were measured over, when it paused. */
    bounceRate: doublePrecision("bounce_rate").notNull(),
    complaintRate: doublePrecision("complaint_rate").notNull(),
    sent: integer("sent").notNull(),
    pausedAt: timestamp("paused_at", { withTimezone: true }).notNull(),
    resumedAt: timestamp("resumed_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("reputation_pauses_standing_idx").on(t.scope).where(sql`resumed_at is null`)],
);
