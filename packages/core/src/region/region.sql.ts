import { bigserial, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Each time a region's stage took over the database (its replica promoted after a failover, or the
 * old region again after a fail back): the newest row is the region sending now, and its
 * `promotedAt` the line between what the previous region had queued and what this one queues.
 */
export const promotions = pgTable("region_promotions", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  region: text("region").notNull(),
  promotedAt: timestamp("promoted_at", { withTimezone: true }).notNull(),
});
