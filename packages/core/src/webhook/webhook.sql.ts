import {
  bigserial,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { projects } from "../project/project.sql";

/** Where a project wants its facts delivered, and the secret that signs them. */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id),
    url: text("url").notNull(),
    description: text("description").notNull(),
    /** The fact types delivered; empty: every type. */
    eventTypes: text("event_types").array().notNull(),
    /** The signing secret, encrypted (AES-256-GCM); never stored or logged in clear. */
    secret: text("secret").notNull(),
    /** The secret a rotation replaced, encrypted: it still signs until `previousSecretUntil`. */
    previousSecret: text("previous_secret"),
    previousSecretUntil: timestamp("previous_secret_until", { withTimezone: true }),
    /** `enabled` or `disabled` (by a caller, or by Pregón after failing for days). */
    status: text("status").notNull(),
    disabledReason: text("disabled_reason"),
    /** Since when every attempt has failed; null after a success. */
    failingSince: timestamp("failing_since", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("webhook_endpoints_project_idx").on(t.projectId, t.createdAt)],
);

/** One fact for one endpoint: its id is the `webhook-id` of every attempt to deliver it. */
export const webhookMessages = pgTable(
  "webhook_messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id").notNull(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    /** The fact's id and type. */
    eventId: uuid("event_id").notNull(),
    eventType: text("event_type").notNull(),
    /** The body sent, exactly as signed (the fact as published: ids and counts only). */
    payload: text("payload").notNull(),
    /** `pending`, `delivered`, `failed` (out of attempts) or `canceled` (its endpoint disabled). */
    status: text("status").notNull(),
    attempts: integer("attempts").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("webhook_messages_endpoint_event_idx").on(t.endpointId, t.eventId),
    // The sweeper's purge of settled messages.
    index("webhook_messages_created_idx").on(t.createdAt),
  ],
);

/** Every attempt to deliver a message: what the receiver answered, never what was sent. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    projectId: uuid("project_id").notNull(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    messageId: uuid("message_id")
      .notNull()
      .references(() => webhookMessages.id, { onDelete: "cascade" }),
    /** `scheduled` (the queue's) or `manual` (a replay). */
    trigger: text("trigger").notNull(),
    /** `succeeded` (a 2xx in time) or `failed`. */
    status: text("status").notNull(),
    responseStatus: integer("response_status"),
    /** The first bytes of the answer, as text. */
    responseExcerpt: text("response_excerpt"),
    /** Why it failed without an answer (refused address, timeout, redirect...). */
    error: text("error"),
    latencyMs: integer("latency_ms").notNull(),
    attemptedAt: timestamp("attempted_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("webhook_attempts_endpoint_idx").on(t.endpointId, t.id)],
);
