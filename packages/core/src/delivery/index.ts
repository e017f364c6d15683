import { and, asc, eq, gt, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import * as Fact from "../fact";
import { notifications } from "../notification/notification.sql";
import * as Outbox from "../outbox";
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
  "unsubscribed",
  "expired",
] as const;
export const Status = z.enum(statuses);
export type Status = z.infer<typeof Status>;

export type Row = typeof deliveries.$inferSelect;

/** The statuses a delivery moves to that a fact announces (`delivery.<status>`). */
type Announced = "sent" | "failed" | "expired" | "delivered" | "bounced" | "complained";

const factOf = (status: Announced) =>
  Fact.define(`delivery.${status}`, {
    version: 1,
    subject: "deliveryId",
    data: z.object({
      deliveryId: z.uuid().meta({ description: "The delivery: one message to one recipient" }),
      notificationId: Fact.fields.notificationId,
      channel: Fact.fields.channel,
      recipientHmac: z.string().nullable().meta({
        description:
          "HMAC-SHA256 of the recipient's address (never the address), the same for the same address of a project's channel; null for deliveries older than it",
      }),
      status: z.literal(status).meta({ description: "The status the delivery moved to" }),
    }),
  });

export const facts = {
  sent: factOf("sent"),
  failed: factOf("failed"),
  expired: factOf("expired"),
  delivered: factOf("delivered"),
  bounced: factOf("bounced"),
  complained: factOf("complained"),
} satisfies Record<Announced, Fact.Definition>;

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

/** One recipient of a notification, as its delivery is written. */
export interface Recipient {
  position: number;
  address: string;
  name: string | null;
  variables: Record<string, unknown> | null;
  recipientHmac: string;
  status: "queued" | "suppressed" | "unsubscribed";
}

/** Writes the deliveries of a notification; returns their ids and statuses, in request order. */
export async function create(
  notification: { id: string; projectId: string; createdAt: Date },
  recipients: Recipient[],
): Promise<Array<{ id: string; status: string }>> {
  // One statement and one parameter whatever the count: 10,000 VALUES rows would need more
  // than Postgres's 65,534 bind parameters.
  const at = notification.createdAt.toISOString();
  return Database.use().execute<{ id: string; status: string }>(sql`
    insert into ${deliveries} (notification_id, project_id, position, address, name, variables,
                               recipient_hmac, status, created_at, updated_at)
    select ${notification.id}, ${notification.projectId}, r.position, r.address, r.name,
           r.variables, r."recipientHmac", r.status, ${at}, ${at}
    from json_to_recordset(${JSON.stringify(recipients)}::json)
         as r(position int, address text, name text, variables jsonb, "recipientHmac" text,
              status text)
    order by r.position
    returning id, status`);
}

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

/** What a statement that moves one delivery `d` (joined to its notification `n`) returns. */
const movedColumns = sql.raw(
  "d.id, d.notification_id, d.project_id, d.recipient_hmac, d.address, d.status, n.channel",
);

/**
 * Runs `move` (an UPDATE of one delivery `d` joined to its notification `n`, returning
 * `movedColumns`) and, in the same statement, the fact of `status` if it moved the delivery there.
 * Returns the delivery if the statement changed it.
 */
async function moveWithFact(move: SQL, status: Announced) {
  const [moved] = await Outbox.addFrom<{ project_id: string; address: string }>({
    change: move,
    topic: "events",
    body: Fact.sqlOf(facts[status], sql`changed.project_id`, {
      deliveryId: sql`changed.id`,
      notificationId: sql`changed.notification_id`,
      channel: sql`changed.channel`,
      recipientHmac: sql`changed.recipient_hmac`,
      status: sql`changed.status`,
    }),
    where: sql`changed.status = ${status}`,
  });
  return moved;
}

/**
 * Moves a leased delivery to `status`, with its fact. Only from `sending`: a delivery never moves
 * back.
 */
async function settle(
  id: string,
  status: "sent" | "failed" | "expired",
  fields: { providerMessageId?: string; error?: string },
): Promise<void> {
  const now = Clock.now().toISOString();
  await moveWithFact(
    sql`
    update ${deliveries} d
    set status = ${status}, lease_until = null, updated_at = ${now},
        provider_message_id = ${fields.providerMessageId ?? null}, error = ${fields.error ?? null}
    from ${notifications} n
    where d.id = ${id} and d.status = 'sending' and n.id = d.notification_id
    returning ${movedColumns}`,
    status,
  );
}

/**
 * Records SES's acceptance. Feedback may have moved the delivery on already (a `delivered` that
 * arrived before this commit): then only the provider's id is added, the status stays, and no
 * fact is written.
 */
export async function markSent(
  id: string,
  providerMessageId: string,
  segments?: number,
): Promise<void> {
  const now = Clock.now().toISOString();
  await moveWithFact(
    sql`
    update ${deliveries} d
    set status = case when d.status = 'sending' then 'sent' else d.status end,
        lease_until = null, updated_at = ${now}, provider_message_id = ${providerMessageId},
        segments = ${segments ?? null}
    from ${notifications} n
    where d.id = ${id} and n.id = d.notification_id
      and (d.status = 'sending' or (d.provider_message_id is null and d.status in ${sql.raw(afterSent)}))
    returning ${movedColumns}`,
    "sent",
  );
}

/** Statuses that provider feedback sets, in the order they can follow one another. */
export const feedbackStatuses = ["delivered", "failed", "bounced", "complained"] as const;
export type FeedbackStatus = (typeof feedbackStatuses)[number];
const afterSent = "('delivered', 'bounced', 'complained')";

/** A delivery only ever moves to a status of a higher rank: late or repeated events change nothing. */
const rank = sql.raw(`case d.status when 'queued' then 0 when 'sending' then 1 when 'sent' then 2
  when 'delivered' then 3 when 'bounced' then 5 when 'complained' then 6 else 4 end`);
const rankOf: Record<FeedbackStatus, number> = {
  delivered: 3,
  failed: 4,
  bounced: 5,
  complained: 6,
};

/**
 * Applies provider feedback (delivery, bounce, complaint, reject) if it moves the delivery forward,
 * with its fact. Returns the delivery when it moved.
 */
export async function advance(
  id: string,
  status: FeedbackStatus,
  error?: string,
): Promise<{ projectId: string; address: string } | undefined> {
  if (!Database.isUuid(id)) return undefined;
  const now = Clock.now().toISOString();
  const moved = await moveWithFact(
    sql`
    update ${deliveries} d
    set status = ${status}, lease_until = null, updated_at = ${now},
        error = coalesce(${error ?? null}, d.error)
    from ${notifications} n
    where d.id = ${id} and ${rank} < ${rankOf[status]} and n.id = d.notification_id
    returning ${movedColumns}`,
    status,
  );
  return moved && { projectId: moved.project_id, address: moved.address };
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
  return Database.transaction(async (tx) => {
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
    await Outbox.add(messages);
    return rows.length;
  });
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

/** Replaces deliveries' addresses: with a masked form, once only that may outlive a code. */
export async function replaceAddresses(
  rows: Array<{ id: string; address: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await Database.use().execute(sql`
    update ${deliveries} d set address = r.address
    from json_to_recordset(${JSON.stringify(rows)}::json) as r(id uuid, address text)
    where d.id = r.id`);
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

/** A page of a notification's deliveries (of the actor's project) in request order, after position `cursor`. */
export async function list(
  notificationId: string,
  options: { cursor?: number | undefined; limit: number },
): Promise<{ deliveries: Info[]; nextCursor: number | null }> {
  const projectId = Actor.projectId();
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
