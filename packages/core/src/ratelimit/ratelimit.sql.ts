import {
  bigserial,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

/** How much of a limit a project used in one fixed window. */
export const rateCounters = pgTable(
  "rate_counters",
  {
    projectId: uuid("project_id").notNull(),
    rule: text("rule").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.rule, t.windowStart] })],
);

/** Every request refused by a limit: who, which rule, when. */
export const limitRefusals = pgTable(
  "limit_refusals",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    projectId: uuid("project_id").notNull(),
    keyId: uuid("key_id"),
    rule: text("rule").notNull(),
    limit: integer("limit").notNull(),
    requested: integer("requested").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("limit_refusals_project_idx").on(t.projectId, t.createdAt)],
);
