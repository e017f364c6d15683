import { createHash } from "node:crypto";
import { and, desc, eq, gte, lt, lte, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import * as Outbox from "../outbox";
import { outbox } from "../outbox/outbox.sql";
import { auditLog } from "./audit.sql";

/** A fact as the outbox publishes it to the events topic. */
export const Fact = z
  .object({
    type: z.string().min(1).max(100),
    projectId: z.uuid(),
    at: z.iso.datetime(),
    deliveryId: z.uuid().optional(),
    notificationId: z.uuid().optional(),
    otpId: z.uuid().optional(),
    keyId: z.uuid().nullish(),
    issuerId: z.uuid().optional(),
    channel: z.string().nullish(),
    recipientHmac: z.string().nullish(),
    status: z.string().nullish(),
    requestId: z.string().nullish(),
  })
  .loose();
export type Fact = z.infer<typeof Fact>;

/**
 * The one id each fact type is about, which its audit row is filed under (`subjectId`). A fact may
 * name several ids (an API send's facts name the key that made it too); only this one is its
 * subject. Template and suppression facts have no id of their own.
 */
export const subjects = {
  "notification.accepted": "notificationId",
  "delivery.sent": "deliveryId",
  "delivery.failed": "deliveryId",
  "delivery.expired": "deliveryId",
  "delivery.delivered": "deliveryId",
  "delivery.bounced": "deliveryId",
  "delivery.complained": "deliveryId",
  "otp.issued": "otpId",
  "otp.verified": "otpId",
  "otp.failed": "otpId",
  "otp.locked": "otpId",
  "key.created": "keyId",
  "key.revoked": "keyId",
  "issuer.created": "issuerId",
  "issuer.removed": "issuerId",
  "template.changed": null,
  "suppression.added": null,
} as const satisfies Record<
  string,
  "notificationId" | "deliveryId" | "otpId" | "keyId" | "issuerId" | null
>;

function subjectOf(fact: Fact): string | null {
  const field = subjects[fact.type as keyof typeof subjects];
  return (field && fact[field]) ?? null;
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
  fact: z.record(z.string(), z.unknown()),
  occurredAt: z.iso.datetime(),
  recordedAt: z.iso.datetime(),
});
export type Event = z.infer<typeof Event>;

/** Records facts (bodies as published); a body seen before is skipped. Returns how many were new. */
export async function record(bodies: string[]): Promise<number> {
  const rows = bodies.map((body) => {
    const fact = Fact.parse(JSON.parse(body));
    return {
      projectId: fact.projectId,
      type: fact.type,
      subjectId: subjectOf(fact),
      notificationId: fact.notificationId ?? null,
      keyId: fact.keyId ?? null,
      channel: fact.channel ?? null,
      recipientHmac: fact.recipientHmac ?? null,
      status: fact.status ?? null,
      requestId: fact.requestId ?? null,
      fact,
      factHash: createHash("sha256").update(body).digest("hex"),
      occurredAt: new Date(fact.at),
      recordedAt: Clock.now(),
    };
  });
  if (rows.length === 0) return 0;
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
