import { and, asc, eq, gt, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import * as Clock from "../clock";
import * as Database from "../db";
import { notifications } from "../notification/notification.sql";
import * as Outbox from "../outbox";
import { outbox } from "../outbox/outbox.sql";
import { deliveries } from "./delivery.sql";

export const statuses = [
  "queued",
  "sending",
  "sent",
  "delivered",
  "bounced",
  "complained",
  "failed",
  "suppressed",
  "expired",
] as const;
export const Status = z.enum(statuses);
export type Status = z.infer<typeof Status>;

export type Row = typeof deliveries.$inferSelect;

export const Info = z.object({
  id: z.uuid(),
  position: z.number().int(),
  to: z.string(),
  status: Status,
  attempts: z.number().int(),
  providerMessageId: z.string().nullable(),
  segments: z.number().int().optional().meta({ description: "SMS: the parts it was billed as" }),
  error: z.string().nullable(),
  updatedAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

const toInfo = (row: Row): Info => ({
  id: row.id,
  position: row.position,
  to: row.address,
  status: row.status as Status,
  attempts: row.attempts,
  providerMessageId: row.providerMessageId,
  ...(row.segments !== null && { segments: row.segments }),
  error: row.error,
  updatedAt: row.updatedAt.toISOString(),
});

/**
 * Takes the deliveries a sender may work on: `queued` ones, and `sending` ones whose lease expired
 * (their sender crashed). A redelivered queue message finds them leased and does nothing.
 */
export async function lease(ids: string[], leaseMs: number): Promise<Row[]> {
  const now = Clock.now();
  return Database.use()
    .update(deliveries)
    .set({
      status: "sending",
      leaseUntil: new Date(now.getTime() + leaseMs),
      attempts: sql`${deliveries.attempts} + 1`,
      updatedAt: now,
    })
    .where(
      and(
        inArray(deliveries.id, ids),
        sql`(${deliveries.status} = 'queued' or (${deliveries.status} = 'sending' and ${deliveries.leaseUntil} < ${now.toISOString()}))`,
      ),
    )
    .returning();
}

/**
 * The outbox insert that announces `type` for each row of a `moved` CTE (deliveries just changed),
 * so a status and its fact are written by one statement.
 */
const factsOfMoved = (type: string, now: string) => sql`
  insert into ${outbox} (topic, body, created_at)
  select 'events',
    json_build_object('type', ${type}::text, 'projectId', moved.project_id,
      'notificationId', moved.notification_id, 'deliveryId', moved.id,
      'status', ${type.slice(type.indexOf(".") + 1)}::text, 'channel', n.channel,
      'recipientHmac', moved.recipient_hmac, 'keyId', n.key_id, 'requestId', n.request_id,
      'at', ${now}::text)::text,
    ${now}
  from moved join ${notifications} n on n.id = moved.notification_id`;

/**
 * Moves a leased delivery to `status` and writes its fact to the outbox in the same statement.
 * Only from `sending`: a delivery never moves back. Returns the outbox id, if it moved.
 */
async function settle(
  id: string,
  status: "sent" | "failed" | "expired",
  fields: { providerMessageId?: string; error?: string },
): Promise<number | undefined> {
  const now = Clock.now().toISOString();
  const rows = await Database.use().execute<{ id: number }>(sql`
    with moved as (
      update ${deliveries}
      set status = ${status}, lease_until = null, updated_at = ${now},
          provider_message_id = ${fields.providerMessageId ?? null}, error = ${fields.error ?? null}
      where id = ${id} and status = 'sending'
      returning id, notification_id, project_id, recipient_hmac
    )
    ${factsOfMoved(`delivery.${status}`, now)}
    returning id`);
  return rows[0]?.id;
}

/**
 * Records SES's acceptance. Feedback may have moved the delivery on already (a `delivered` that
 * arrived before this commit): then only the provider's id is added, and the status stays.
 */
export async function markSent(
  id: string,
  providerMessageId: string,
  segments?: number,
): Promise<number | undefined> {
  const now = Clock.now().toISOString();
  const rows = await Database.use().execute<{ id: number }>(sql`
    with moved as (
      update ${deliveries}
      set status = case when status = 'sending' then 'sent' else status end,
          lease_until = null, updated_at = ${now}, provider_message_id = ${providerMessageId},
          segments = ${segments ?? null}
      where id = ${id}
        and (status = 'sending' or (provider_message_id is null and status in ${sql.raw(afterSent)}))
      returning id, notification_id, project_id, recipient_hmac, status
    )
    ${factsOfMoved("delivery.sent", now)} where moved.status = 'sent'
    returning id`);
  return rows[0]?.id;
}

/** Statuses that provider feedback sets, in the order they can follow one another. */
export const feedbackStatuses = ["delivered", "failed", "bounced", "complained"] as const;
export type FeedbackStatus = (typeof feedbackStatuses)[number];
const afterSent = "('delivered', 'bounced', 'complained')";

/** A delivery only ever moves to a status of a higher rank: late or repeated events change nothing. */
const rank = sql.raw(`case status when 'queued' then 0 when 'sending' then 1 when 'sent' then 2
  when 'delivered' then 3 when 'bounced' then 5 when 'complained' then 6 else 4 end`);
const rankOf: Record<FeedbackStatus, number> = {
  delivered: 3,
  failed: 4,
  bounced: 5,
  complained: 6,
};

/**
 * Applies provider feedback (delivery, bounce, complaint, reject) if it moves the delivery forward,
 * with its fact in the same statement. Returns the delivery when it moved.
 */
export async function advance(
  id: string,
  status: FeedbackStatus,
  error?: string,
): Promise<{ projectId: string; address: string; outboxId: number } | undefined> {
  if (!Database.isUuid(id)) return undefined;
  const now = Clock.now().toISOString();
  const rows = await Database.use().execute<{
    project_id: string;
    address: string;
    id: number;
  }>(sql`
    with moved as (
      update ${deliveries}
      set status = ${status}, lease_until = null, updated_at = ${now},
          error = coalesce(${error ?? null}, error)
      where id = ${id} and ${rank} < ${rankOf[status]}
      returning id, notification_id, project_id, recipient_hmac, address
    ), fact as (
      ${factsOfMoved(`delivery.${status}`, now)}
      returning id
    )
    select moved.project_id, moved.address, fact.id from moved, fact`);
  const [row] = rows;
  return row && { projectId: row.project_id, address: row.address, outboxId: row.id };
}

export const markFailed = (id: string, error: string) => settle(id, "failed", { error });

export const markExpired = (id: string) => settle(id, "expired", {});

/** A provider's "still trying" (SES DeliveryDelay): noted on a sent delivery, its status kept. */
export async function noteDelay(id: string, reason: string): Promise<void> {
  if (!Database.isUuid(id)) return;
  await Database.use()
    .update(deliveries)
    .set({ error: `delayed: ${reason}`, updatedAt: Clock.now() })
    .where(and(eq(deliveries.id, id), inArray(deliveries.status, ["sending", "sent"])));
}

/**
 * How a delivery that failed on its message's last receive (a transient cause, not a refusal)
 * starts its error: an operator who redrives the message from the DLQ gives it another chance.
 */
export const gaveUp = "gave up on the last receive: ";

/**
 * DLQ redrive: deliveries of a redriven message that failed only because their message ran out of
 * receives go back to `queued` (the one move backwards, and an operator's). Returns how many.
 */
export async function requeueGaveUp(ids: string[]): Promise<number> {
  const rows = await Database.use()
    .update(deliveries)
    .set({ status: "queued", error: null, leaseUntil: null, updatedAt: Clock.now() })
    .where(
      and(
        inArray(deliveries.id, ids),
        eq(deliveries.status, "failed"),
        sql`starts_with(${deliveries.error}, ${gaveUp})`,
      ),
    )
    .returning({ id: deliveries.id });
  return rows.length;
}

/** Gives a leased delivery back (a transient error): the queue message's next receive retries it. */
export async function release(id: string): Promise<void> {
  await Database.use()
    .update(deliveries)
    .set({ status: "queued", leaseUntil: null, updatedAt: Clock.now() })
    .where(and(eq(deliveries.id, id), eq(deliveries.status, "sending")));
}

/** Delivery ids per queue message: a sender finishes one message well within its timeout. */
export const idsPerMessage = 50;

/** The queue messages that hand `ids` (all of one channel) to that channel's sender. */
export function queueMessages(channel: Outbox.Topic, ids: string[]): Outbox.Message[] {
  const messages: Outbox.Message[] = [];
  for (let i = 0; i < ids.length; i += idsPerMessage) {
    messages.push({
      topic: channel,
      body: JSON.stringify({ deliveryIds: ids.slice(i, i + idsPerMessage) }),
    });
  }
  return messages;
}

/**
 * Puts deliveries back on the queue of their own channel: `select` names them (`id`,
 * `notification_id`, `position`) and may move them in the same statement. Their
 * queue messages are written in its transaction and published after the commit. Returns how many.
 */
async function putBack(select: SQL): Promise<number> {
  const { count, outboxIds } = await Database.use().transaction(async (tx) => {
    const rows = await tx.execute<{ id: string; channel: Outbox.Topic }>(sql`
      with picked as (${select})
      select picked.id, n.channel from picked join ${notifications} n on n.id = picked.notification_id
      order by picked.notification_id, picked.position`);
    const byChannel = new Map<Outbox.Topic, string[]>();
    for (const row of rows) {
      const ids = byChannel.get(row.channel) ?? [];
      ids.push(row.id);
      byChannel.set(row.channel, ids);
    }
    const messages = [...byChannel].flatMap(([channel, ids]) => queueMessages(channel, ids));
    return { count: rows.length, outboxIds: await Outbox.add(tx, messages) };
  });
  await Outbox.publishSoon(outboxIds);
  return count;
}

/**
 * Sweeper: deliveries still `sending` `expiredForMs` after their lease ended have lost their queue
 * message (a redelivery found them leased and was deleted, then their sender crashed). They go
 * back to `queued`, on their channel's queue. Returns how many.
 */
export function requeueAbandoned(expiredForMs: number): Promise<number> {
  const now = Clock.now();
  const before = new Date(now.getTime() - expiredForMs).toISOString();
  return putBack(sql`
    update ${deliveries} set status = 'queued', lease_until = null, updated_at = ${now.toISOString()}
    where status = 'sending' and lease_until < ${before}
    returning id, notification_id, position`);
}

/**
 * Sweeper: deliveries `queued` for longer than `queuedForMs` (longer than the queue keeps a
 * message) have no message left: the one that named them went to the DLQ and was not redriven, or
 * was lost. They go on their channel's queue again, and their wait starts over, so a delivery whose
 * channel keeps failing is republished once per `queuedForMs`, not on every sweep. Returns how many.
 */
export function republishQueued(queuedForMs: number): Promise<number> {
  return republishQueuedBefore(new Date(Clock.now().getTime() - queuedForMs));
}

/**
 * Deliveries `queued` and untouched since before `before` go on their channel's queue again, and
 * their wait starts over (`updated_at` is now, so a second call with the same `before` finds none).
 * Returns how many.
 */
export function republishQueuedBefore(before: Date): Promise<number> {
  const now = Clock.now().toISOString();
  return putBack(sql`
    update ${deliveries} set updated_at = ${now}
    where status = 'queued' and updated_at < ${before.toISOString()}
    returning id, notification_id, position`);
}

/**
 * A queue that forgot its messages (the local emulator keeps them in memory): every delivery not
 * yet settled goes on its channel's queue again. A `sending` one whose lease still runs is left
 * alone by the sender that receives it (a second message is harmless); once the lease has ended,
 * `requeueAbandoned(0)` brings it back. Returns how many.
 */
export function republishPending(): Promise<number> {
  return putBack(sql`
    select id, notification_id, position from ${deliveries}
    where status in ('queued', 'sending')`);
}

/** Counts per status of one notification's deliveries. */
export async function counts(notificationId: string): Promise<Partial<Record<Status, number>>> {
  const rows = await Database.use()
    .select({ status: deliveries.status, count: sql<number>`count(*)::int` })
    .from(deliveries)
    .where(eq(deliveries.notificationId, notificationId))
    .groupBy(deliveries.status);
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

/** A page of a notification's deliveries in request order, after position `cursor`. */
export async function list(
  projectId: string,
  notificationId: string,
  options: { cursor?: number | undefined; limit: number },
): Promise<{ deliveries: Info[]; nextCursor: number | null }> {
  const rows = await Database.use()
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.projectId, projectId),
        eq(deliveries.notificationId, notificationId),
        gt(deliveries.position, options.cursor ?? -1),
      ),
    )
    .orderBy(asc(deliveries.position))
    .limit(options.limit + 1);
  const { items, nextCursor } = Database.page(rows, options.limit, (row) => row.position);
  return { deliveries: items.map(toInfo), nextCursor };
}
