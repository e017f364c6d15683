import { createHash } from "node:crypto";
import { and, desc, eq, gte, inArray, lt, lte, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import * as Fact from "../fact";
import { notifications } from "../notification/notification.sql";
import * as Outbox from "../outbox";
import { outbox } from "../outbox/outbox.sql";
import { auditLog } from "./audit.sql";

/**
 * A fact as published before facts had an envelope: its type, ids and `at` side by side. The
 * events queue may still hand some over after an upgrade; they are recorded as they are.
 */
const Unversioned = z
  .object({
    type: z.string().min(1).max(100),
    projectId: z.uuid(),
    at: z.iso.datetime(),
    notificationId: z.uuid().optional(),
    keyId: z.uuid().nullish(),
    channel: z.string().nullish(),
    recipientHmac: z.string().nullish(),
    status: z.string().nullish(),
    requestId: z.string().nullish(),
  })
  .loose();

const text = (value: unknown) => (typeof value === "string" ? value : null);
const uuid = (value: unknown) =>
  typeof value === "string" && Database.isUuid(value) ? value : null;

/**
 * What an audit row files a fact under. Any type and version with a valid envelope is recorded,
 * its columns read from fields of those names; its subject is kept when it is an id (a template's
 * key is not).
 */
function columnsOf(body: unknown) {
  const parsed = Fact.Envelope.safeParse(body);
  if (parsed.success) {
    const { type, projectId, subject, data, actor, occurredAt } = parsed.data;
    return {
      projectId,
      type,
      subjectId: uuid(subject),
      notificationId: uuid(data.notificationId),
      keyId: actor.type === "key" ? actor.keyId : null,
      requestId: actor.type === "key" ? actor.requestId : null,
      channel: text(data.channel),
      recipientHmac: text(data.recipientHmac),
      status: text(data.status),
      occurredAt: new Date(occurredAt),
    };
  }
  const fact = Unversioned.parse(body);
  const subject = Fact.all().find((definition) => definition.type === fact.type)?.subject;
  return {
    projectId: fact.projectId,
    type: fact.type,
    subjectId: subject ? uuid(fact[subject]) : null,
    notificationId: fact.notificationId ?? null,
    keyId: fact.keyId ?? null,
    requestId: fact.requestId ?? null,
    channel: fact.channel ?? null,
    recipientHmac: fact.recipientHmac ?? null,
    status: fact.status ?? null,
    occurredAt: new Date(fact.at),
  };
}

export const Event = z.object({
  id: z.number().int(),
  type: z.string(),
  subjectId: z.uuid().nullable(),
  notificationId: z.uuid().nullable(),
  keyId: z.uuid().nullable().meta({ description: "The API key behind the fact" }),
  channel: z.string().nullable(),
  recipientHmac: z
    .string()
    .nullable()
    .meta({ description: "Deliveries: HMAC of the recipient's address, never the address" }),
  status: z.string().nullable().meta({ description: "Deliveries: the status it moved to" }),
  requestId: z.string().nullable().meta({ description: "The API request that led to it" }),
  fact: z.record(z.string(), z.unknown()).meta({
    description:
      "The fact as published: `{type, version, id, occurredAt, projectId, actor, subject, data}`, `data` as its type and version define it. Facts recorded before facts were versioned keep their older shape (`type`, ids and `at` side by side)",
  }),
  occurredAt: z.iso.datetime(),
  recordedAt: z.iso.datetime(),
});
export type Event = z.infer<typeof Event>;

/** Records facts (bodies as published); a body seen before is skipped. Returns how many were new. */
export async function record(bodies: string[]): Promise<number> {
  if (bodies.length === 0) return 0;
  const rows = bodies.map((body) => {
    const fact = JSON.parse(body) as Record<string, unknown>;
    return {
      ...columnsOf(fact),
      fact,
      factHash: createHash("sha256").update(body).digest("hex"),
      recordedAt: Clock.now(),
    };
  });
  // A send's later facts (its deliveries', written by the senders and the feedback consumer) are
  // filed under the key and the request that made the send, kept on its notification.
  const later = rows.filter((row) => row.keyId === null && row.notificationId !== null);
  if (later.length > 0) {
    const sends = await Database.use()
      .select({
        id: notifications.id,
        projectId: notifications.projectId,
        keyId: notifications.keyId,
        requestId: notifications.requestId,
      })
      .from(notifications)
      .where(inArray(notifications.id, [...new Set(later.map((row) => row.notificationId!))]));
    for (const row of later) {
      const send = sends.find((s) => s.id === row.notificationId && s.projectId === row.projectId);
      if (send) Object.assign(row, { keyId: send.keyId, requestId: send.requestId });
    }
  }
  const inserted = await Database.use()
    .insert(auditLog)
    .values(rows)
    .onConflictDoNothing({ target: auditLog.factHash })
    .returning({ id: auditLog.id });
  return inserted.length;
}

/**
 * Publishes again the facts the events queue was handed but the audit log never recorded: what a
 * queue that forgets its messages (the local emulator, after a crash) dropped. A fact is recorded
 * once (by its hash), so one that arrives twice is harmless. Returns how many.
 */
export async function replayUnrecorded(): Promise<number> {
  // The same hash `record` keeps: SHA-256 of the body's UTF-8 bytes.
  const rows = await Database.use().execute<{ id: string }>(sql`
    select o.id from ${outbox} o
    where o.topic = 'events' and o.published_at is not null
      and not exists (select 1 from ${auditLog} a
        where a.fact_hash = encode(sha256(convert_to(o.body, 'UTF8')), 'hex'))
    order by o.id`);
  return Outbox.republish(rows.map((row) => Number(row.id)));
}

/** A page of the actor's project's audit events, newest first, before id `cursor`. */
export async function list(filters: {
  type?: string | undefined;
  subjectId?: string | undefined;
  notificationId?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  cursor?: number | undefined;
  limit: number;
}): Promise<{ events: Event[]; nextCursor: number | null }> {
  const projectId = Actor.projectId();
  const rows = await Database.use()
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.projectId, projectId),
        filters.type ? eq(auditLog.type, filters.type) : undefined,
        filters.subjectId ? eq(auditLog.subjectId, filters.subjectId) : undefined,
        filters.notificationId ? eq(auditLog.notificationId, filters.notificationId) : undefined,
        filters.since ? gte(auditLog.occurredAt, new Date(filters.since)) : undefined,
        filters.until ? lte(auditLog.occurredAt, new Date(filters.until)) : undefined,
        filters.cursor !== undefined ? lt(auditLog.id, filters.cursor) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(filters.limit + 1);
  const { items, nextCursor } = Database.page(rows, filters.limit, (row) => row.id);
  return {
    events: items.map((row) => ({
      id: row.id,
      type: row.type,
      subjectId: row.subjectId,
      notificationId: row.notificationId,
      keyId: row.keyId,
      channel: row.channel,
      recipientHmac: row.recipientHmac,
      status: row.status,
      requestId: row.requestId,
      fact: row.fact as Record<string, unknown>,
      occurredAt: row.occurredAt.toISOString(),
      recordedAt: row.recordedAt.toISOString(),
    })),
    nextCursor,
  };
}
