import { and, eq, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import { Channel } from "../channel";
import * as Clock from "../clock";
import { hmac } from "../crypto";
import * as Database from "../db";
import * as Delivery from "../delivery";
import { deliveries } from "../delivery/delivery.sql";
import { AppError } from "../error";
import * as Fact from "../fact";
import * as Idempotency from "../idempotency";
import * as Log from "../log";
import * as Outbox from "../outbox";
import * as RateLimit from "../ratelimit";
import * as Suppression from "../suppression";
import { notifications } from "./notification.sql";

export { Channel };

export const Recipients = z.object({
  accepted: z.number().int().meta({ description: "Recipients that will be sent a message" }),
  suppressed: z.number().int().meta({ description: "Recipients skipped: on the suppression list" }),
  unsubscribed: z.number().int().meta({
    description: "Recipients skipped: opted out of the email's category (0 for transactional)",
  }),
  duplicates: z.number().int().meta({ description: "Repeated recipients dropped (first wins)" }),
});

/** Your labels of a send (at most 100 characters a name, 256 a value), kept with its notification. */
export const Tags = z
  .record(z.string().regex(/^[A-Za-z0-9_-]{1,100}$/), z.string().max(256))
  .meta({ description: "Your labels, kept with the notification" });

/** `queued` until a delivery ends, `sending` while some are pending, `completed` when none is. */
export const Status = z.enum(["queued", "sending", "completed"]);

export const Info = z.object({
  id: z.uuid(),
  channel: Channel,
  status: Status,
  recipients: Recipients,
  counts: z.partialRecord(Delivery.Status, z.number().int()),
  createdAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

export type Row = typeof notifications.$inferSelect;

export const facts = {
  accepted: Fact.define("notification.accepted", {
    version: 1,
    subject: "notificationId",
    data: z.object({
      notificationId: Fact.fields.notificationId,
      channel: Fact.fields.channel,
      ...Recipients.shape,
    }),
  }),
  completed: Fact.define("notification.completed", {
    version: 1,
    subject: "notificationId",
    data: z.object({
      notificationId: Fact.fields.notificationId,
      channel: Fact.fields.channel,
      counts: z.partialRecord(Delivery.Status, z.number().int()).meta({
        description: 'The send\'s deliveries per status when it completed (`{"sent": 2}`)',
      }),
    }),
  }),
};

/** One recipient of a send: an email address, a phone number or a device id. */
export type Recipient = Omit<Delivery.Recipient, "recipientHmac">;

/**
 * A recipient as audit rows and OTP limits know it: HMAC-SHA256 with the pepper, the same for the
 * same address (any case) of a project's channel, and useless without the pepper.
 */
export const recipientHmac = (projectId: string, channel: Channel, address: string) =>
  hmac("destination", projectId, channel, channel === "email" ? address.toLowerCase() : address);

/**
 * Writes a notification of the actor's project, its deliveries, their queue messages and the
 * accepted fact in the current transaction (or one of its own); the messages are published once it
 * commits. A notification with nothing to send (every recipient suppressed) is completed at once.
 */
export async function write(input: {
  channel: Channel;
  content: unknown;
  variables: Record<string, unknown>;
  tags: Record<string, string>;
  recipients: Recipient[];
  counts: z.infer<typeof Recipients>;
  /** A write of the caller's to send with the last ones, in their round trip (a send's limits). */
  alongside?: () => Promise<void>;
}): Promise<{ id: string; deliveryIds: string[] }> {
  return Database.transaction((tx) => writeIn(tx, input));
}

async function writeIn(
  tx: Database.Tx,
  input: Parameters<typeof write>[0],
): Promise<{ id: string; deliveryIds: string[] }> {
  const { channel, counts } = input;
  const projectId = Actor.projectId();
  const now = Clock.now();
  const [notification] = await tx
    .insert(notifications)
    .values({
      projectId,
      channel,
      keyId: Actor.keyId(),
      requestId: Actor.requestId(),
      content: input.content,
      variables: input.variables,
      tags: input.tags,
      ...counts,
      createdAt: now,
    })
    .returning({ id: notifications.id });
  const id = notification!.id;
  const rows = await Delivery.create(
    { id, projectId, createdAt: now },
    input.recipients.map((r) => ({
      ...r,
      recipientHmac: recipientHmac(projectId, channel, r.address),
    })),
  );
  const queued = rows.filter((row) => row.status === "queued").map((row) => row.id);
  // None of these needs another's answer: sent together, one round trip.
  await Database.together([
    Outbox.add(Delivery.queueMessages(channel, queued)),
    Fact.emit(facts.accepted, projectId, { notificationId: id, channel, ...counts }),
    input.alongside?.(),
  ]);
  if (queued.length === 0) await complete([id]);
  return { id, deliveryIds: queued };
}

/**
 * Completes the notifications `which` selects (from `notifications n`) that have no delivery left
 * to send, none `queued` or `sending`, with the `notification.completed` fact of each, in one
 * statement. Each completes once: of two checks at the same time, the second to update finds it
 * completed. Returns how many completed.
 */
async function completeWhere(which: SQL): Promise<number> {
  const completed = await Outbox.addFrom({
    change: sql`
      update ${notifications} n set completed_at = ${Clock.now().toISOString()}
      where ${which} and n.completed_at is null
        and not exists (select 1 from ${deliveries} d
                        where d.notification_id = n.id and d.status in ('queued', 'sending'))
      returning n.id, n.project_id, n.channel,
        (select coalesce(json_object_agg(c.status, c.count), '{}'::json)
         from (select status, count(*)::int as count from ${deliveries}
               where notification_id = n.id group by status) c) as counts`,
    topic: "events",
    body: Fact.sqlOf(facts.completed, sql`changed.project_id`, {
      notificationId: sql`changed.id`,
      channel: sql`changed.channel`,
      counts: sql`changed.counts`,
    }),
  });
  return completed.length;
}

/**
 * Completes those of these notifications whose deliveries have all settled. Senders call it once
 * the statuses they recorded have committed: of the senders recording a notification's last
 * deliveries, the last to commit then finds none pending.
 */
export async function complete(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await completeWhere(
    sql`n.id in (select json_array_elements_text(${JSON.stringify(ids)}::json)::uuid)`,
  );
}

/**
 * Sweeper: completes the notifications whose last deliveries settled without a sender checking
 * (it died after recording them, or feedback settled them first). Returns how many.
 */
export const completeSettled = () => completeWhere(sql`true`);

const metricPrefix: Record<Channel, string> = { email: "Emails", sms: "Sms", push: "Push" };

/** What a send answers with (202): the schema each channel's route declares. */
export const acceptedOf = <C extends Channel>(channel: C) =>
  z.object({
    id: z.uuid(),
    channel: z.literal(channel),
    status: z.literal("queued"),
    recipients: Recipients,
  });

export interface Accepted<C extends Channel = Channel> {
  id: string;
  channel: C;
  status: "queued";
  recipients: z.infer<typeof Recipients>;
}

/**
 * The end of every send, once its recipients are known: the project's limits are checked first (a
 * refusal is recorded), against a read that also finds which recipients are on the suppression
 * list, then `content` does the costly checks (template lookups, renders), so a project over its
 * limits costs none of them. Then in one transaction, with the Idempotency-Key's claim, the
 * notification, its deliveries, and last, in one round trip, their queue messages, the accepted
 * fact and the limits taken: a send that fails, or turns out to be a replay, takes nothing, and
 * the counters stay locked only until the commit. After the commit the messages are published (or
 * by the sweeper, if that fails), counted and logged (ids and counts only).
 */
export async function accept<C extends Channel>(input: {
  claim: Idempotency.Claim | undefined;
  channel: C;
  /** What the notification keeps, made once the limits are checked; throws to refuse the send. */
  content: () => Promise<unknown>;
  variables: Record<string, unknown>;
  tags: Record<string, string> | undefined;
  /** Without repeats; those already `suppressed` (an inactive device) count as such. */
  recipients: Recipient[];
  duplicates: number;
  /** Of the recipients (by HMAC), those who opted out of what this send is: skipped, not sent. */
  optedOut?: (hmacs: string[]) => Promise<Set<string>>;
}): Promise<Accepted<C>> {
  const { claim, channel, recipients } = input;
  // The limits' read and the suppression list's, one statement.
  const { usage, listed } = await Database.readTogether({
    usage: RateLimit.sendUsage(channel),
    listed: Suppression.listed(
      channel,
      recipients.map((r) => r.address),
    ),
  });
  const limits = await RateLimit.checkSend(
    usage,
    recipients.filter((r) => r.status === "queued").length,
  );
  const content = await input.content();
  for (const recipient of recipients) {
    if (listed.has(recipient.address.toLowerCase())) recipient.status = "suppressed";
  }
  let accepted: { response: Accepted<C>; replayed: boolean };
  try {
    accepted = await Idempotency.once(claim, async () => {
      if (input.optedOut) {
        const projectId = Actor.projectId();
        const hmacs = recipients.map((r) => recipientHmac(projectId, channel, r.address));
        const out = await input.optedOut(hmacs);
        for (const [i, recipient] of recipients.entries()) {
          if (recipient.status === "queued" && out.has(hmacs[i]!))
            recipient.status = "unsubscribed";
        }
      }
      const suppressed = recipients.filter((r) => r.status === "suppressed").length;
      const unsubscribed = recipients.filter((r) => r.status === "unsubscribed").length;
      const counts = {
        accepted: recipients.length - suppressed - unsubscribed,
        suppressed,
        unsubscribed,
        duplicates: input.duplicates,
      };
      const written = await write({
        ...input,
        content,
        tags: input.tags ?? {},
        counts,
        alongside: () => RateLimit.takeSend(limits),
      });
      return { id: written.id, channel, status: "queued" as const, recipients: counts };
    });
  } catch (error) {
    await RateLimit.recordRefusal(error);
    throw error;
  }
  const { response, replayed } = accepted;
  if (!replayed) {
    Log.count(`${metricPrefix[channel]}Accepted`, response.recipients.accepted);
    Log.count(`${metricPrefix[channel]}Suppressed`, response.recipients.suppressed);
    if (response.recipients.unsubscribed) {
      Log.count(`${metricPrefix[channel]}Unsubscribed`, response.recipients.unsubscribed);
    }
    Log.logger.info("notification accepted", {
      notificationId: response.id,
      channel,
      ...response.recipients,
    });
  }
  return response;
}

/** Throws not_found unless the notification exists in the actor's project. */
export async function find(id: string): Promise<Row> {
  const projectId = Actor.projectId();
  if (!Database.isUuid(id)) throw new AppError("not_found", `Notification ${id} not found`);
  const [row] = await Database.use()
    .select()
    .from(notifications)
    .where(and(eq(notifications.projectId, projectId), eq(notifications.id, id)));
  if (!row) throw new AppError("not_found", `Notification ${id} not found`);
  return row;
}

export async function get(id: string): Promise<Info> {
  const row = await find(id);
  const counts = await Delivery.counts(id);
  const pending = (counts.queued ?? 0) + (counts.sending ?? 0);
  const total = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
  return {
    id: row.id,
    channel: row.channel as Channel,
    status: pending === 0 ? "completed" : pending === total ? "queued" : "sending",
    recipients: {
      accepted: row.accepted,
      suppressed: row.suppressed,
      unsubscribed: row.unsubscribed,
      duplicates: row.duplicates,
    },
    counts,
    createdAt: row.createdAt.toISOString(),
  };
}
