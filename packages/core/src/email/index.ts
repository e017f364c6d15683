import { inArray, sql } from "drizzle-orm";
import { z } from "zod";
import * as Clock from "../clock";
import * as Database from "../db";
import * as Delivery from "../delivery";
import { AppError } from "../error";
import * as Idempotency from "../idempotency";
import * as Log from "../log";
import { notifications } from "../notification/notification.sql";
import { issueCode } from "../otp/code";
import * as Outbox from "../outbox";
import * as RateLimit from "../ratelimit";
import * as Suppression from "../suppression";
import * as Template from "../template";
import { addressOf, formatAddress, type Mailer, SendError } from "./mailer";

export { addressOf, formatAddress, type Mailer, type OutgoingEmail, SendError } from "./mailer";
export { maxSendRate, sesMailer } from "./ses";

/** Delivery ids per queue message. */
export const idsPerMessage = 50;
export const maxRecipients = 10_000;

const noLineBreak = (s: string) => !/[\r\n]/.test(s);
const Variables = z.record(z.string(), z.unknown());
const Mailbox = z
  .string()
  .max(320)
  .refine(noLineBreak, "must be one line")
  .refine((s) => z.email().safeParse(addressOf(s)).success, "must be an email address");

export const Recipient = z.union([
  z.email(),
  z.object({
    email: z.email(),
    name: z.string().max(200).refine(noLineBreak, "must be one line").optional(),
    variables: Variables.optional().meta({ description: "Override the shared variables" }),
  }),
]);

export const SendInput = z
  .object({
    to: z
      .array(Recipient)
      .min(1)
      .max(maxRecipients)
      .meta({ description: "One message each; repeated addresses (any case) are dropped" }),
    from: Mailbox.optional().meta({
      description: "Sender, `address` or `Name <address>`; one of the configured senders",
    }),
    replyTo: z.email().optional(),
    template: z.object({ key: Template.Key, locale: Template.Locale.optional() }).optional().meta({
      description: "A stored template (PUT /v1/templates/{key}), instead of inline content",
    }),
    subject: z.string().min(1).max(998).optional().meta({ description: "LiquidJS template" }),
    html: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "LiquidJS template; values are HTML-escaped" }),
    text: z.string().min(1).optional().meta({ description: "LiquidJS template" }),
    variables: Variables.optional().meta({ description: "Shared by every recipient" }),
    tags: z
      .record(z.string().regex(/^[A-Za-z0-9_-]{1,100}$/), z.string().max(256))
      .optional()
      .meta({ description: "Your labels, kept with the notification" }),
  })
  .superRefine((input, ctx) => {
    const inline =
      input.subject !== undefined || input.html !== undefined || input.text !== undefined;
    if (input.template && inline) {
      ctx.addIssue({
        code: "custom",
        path: ["template"],
        message: "Give a template or inline content, not both",
      });
    } else if (!input.template) {
      if (input.subject === undefined) {
        ctx.addIssue({ code: "custom", path: ["subject"], message: "Required without a template" });
      }
      if (input.html === undefined && input.text === undefined) {
        ctx.addIssue({ code: "custom", path: ["html"], message: "Give html, text or both" });
      }
    }
  });
export type SendInput = z.infer<typeof SendInput>;

export interface Settings {
  /** The sender when a request names none. */
  from: string;
  /** Addresses and `@domain`s requests may send from. */
  senders: string[];
}

export interface Accepted {
  id: string;
  channel: "email";
  status: "queued";
  recipients: { accepted: number; suppressed: number; duplicates: number };
}

/** What a notification keeps: the sender, and inline content or the template version used. */
export interface Content extends Partial<Template.Content> {
  from: string;
  replyTo: string | null;
  template?: Template.Ref;
  /** A one-time code's message: the sender makes the code at send time (`code` variable). */
  otp?: { id: string };
}

/** The template sources of a notification's content: inline, or the recorded version from S3. */
async function sourceOf(content: Content): Promise<Template.Content> {
  if (content.template) return Template.load(content.template.version);
  return { subject: content.subject!, html: content.html ?? null, text: content.text ?? null };
}

function assertSender(from: string, senders: string[]) {
  const address = addressOf(from);
  const domain = address.slice(address.lastIndexOf("@"));
  const allowed = senders.map((s) => s.toLowerCase());
  if (!allowed.includes(address) && !allowed.includes(domain)) {
    throw new AppError("sender_not_allowed", `from: ${address} is not a configured sender`);
  }
}

export interface Recipient {
  position: number;
  address: string;
  name: string | null;
  variables: Template.Variables | null;
  status: "queued" | "suppressed";
}

/**
 * The request's recipients without repeats (any case; the first wins). Every rendered subject is
 * checked now (a line break is refused), and the first recipient's whole message.
 */
function recipientsOf(input: SendInput, compiled: Template.Compiled): Recipient[] {
  const shared = input.variables ?? {};
  const seen = new Set<string>();
  const recipients: Recipient[] = [];
  for (const [i, entry] of input.to.entries()) {
    const recipient = typeof entry === "string" ? { email: entry } : entry;
    const key = recipient.email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const variables = { ...shared, ...recipient.variables };
    try {
      if (recipients.length === 0) Template.render(compiled, variables);
      else Template.renderSubject(compiled, variables);
    } catch (error) {
      if (error instanceof AppError) throw new AppError(error.reason, `to.${i}: ${error.message}`);
      throw error;
    }
    recipients.push({
      position: recipients.length,
      address: recipient.email,
      name: recipient.name ?? null,
      variables: recipient.variables ?? null,
      status: "queued",
    });
  }
  return recipients;
}

/**
 * Writes a notification, its deliveries and their queue messages (+ the accepted fact) in the
 * caller's transaction; returns what to publish after the commit.
 */
export async function write(
  tx: Database.Tx,
  input: {
    projectId: string;
    content: Content;
    variables: Template.Variables;
    tags: Record<string, string>;
    recipients: Recipient[];
    counts: Accepted["recipients"];
  },
): Promise<{ id: string; deliveryIds: string[]; outboxIds: number[] }> {
  const { projectId, counts } = input;
  const now = Clock.now();
  const [notification] = await tx
    .insert(notifications)
    .values({
      projectId,
      channel: "email",
      content: input.content,
      variables: input.variables,
      tags: input.tags,
      ...counts,
      createdAt: now,
    })
    .returning({ id: notifications.id });
  const id = notification!.id;
  // One statement and one parameter whatever the count: 10,000 VALUES rows would need more
  // than Postgres's 65,534 bind parameters.
  const at = now.toISOString();
  const rows = await tx.execute<{ id: string; status: string }>(sql`
    insert into deliveries (notification_id, project_id, position, address, name, variables,
                            status, created_at, updated_at)
    select ${id}, ${projectId}, r.position, r.address, r.name, r.variables, r.status, ${at}, ${at}
    from json_to_recordset(${JSON.stringify(input.recipients)}::json)
         as r(position int, address text, name text, variables jsonb, status text)
    order by r.position
    returning id, status`);
  const queued = rows.filter((row) => row.status === "queued").map((row) => row.id);
  const messages: Outbox.Message[] = [];
  for (let i = 0; i < queued.length; i += idsPerMessage) {
    messages.push({
      topic: "email",
      body: JSON.stringify({ deliveryIds: queued.slice(i, i + idsPerMessage) }),
    });
  }
  messages.push({
    topic: "events",
    body: JSON.stringify({
      type: "notification.accepted",
      projectId,
      notificationId: id,
      channel: "email",
      ...counts,
      at,
    }),
  });
  return { id, deliveryIds: queued, outboxIds: await Outbox.add(tx, messages) };
}

/**
 * Accepts an email to many recipients: checks sender and content, drops repeated recipients, and
 * writes the notification, one delivery per recipient and the queue messages in one transaction.
 * The messages are published after the commit (or by the sweeper, if that fails).
 */
export async function send(
  projectId: string,
  input: SendInput,
  settings: Settings,
  options: { idempotencyKey?: string | undefined; keyId?: string | undefined } = {},
): Promise<Accepted> {
  const claim = options.idempotencyKey
    ? { projectId, key: options.idempotencyKey, operation: "emails.send", input }
    : undefined;
  // A repeated request gets its first answer, before any check or limit.
  const replay = await Idempotency.replay<Accepted>(claim);
  if (replay) return replay;

  const from = input.from ?? settings.from;
  assertSender(from, settings.senders);
  const content: Content = input.template
    ? {
        from,
        replyTo: input.replyTo ?? null,
        template: await Template.resolve(projectId, input.template.key, input.template.locale).then(
          ({ key, locale, version }) => ({ key, locale, version }),
        ),
      }
    : {
        from,
        replyTo: input.replyTo ?? null,
        subject: input.subject!,
        html: input.html ?? null,
        text: input.text ?? null,
      };
  const compiled = Template.compile(await sourceOf(content));
  const shared = input.variables ?? {};

  const recipients = recipientsOf(input, compiled);
  const duplicates = input.to.length - recipients.length;

  // Outside the transaction: a refusal is recorded, and a 1-connection pool (Lambda) is not held.
  await RateLimit.checkSend({
    projectId,
    keyId: options.keyId,
    channel: "email",
    recipients: recipients.length,
  });
  let outboxIds: number[] = [];
  const { response, replayed } = await Idempotency.once(claim, async (tx): Promise<Accepted> => {
    const suppressed = await Suppression.filter(
      tx,
      projectId,
      "email",
      recipients.map((r) => r.address),
    );
    for (const recipient of recipients) {
      if (suppressed.has(recipient.address.toLowerCase())) recipient.status = "suppressed";
    }
    const counts = {
      accepted: recipients.length - suppressed.size,
      suppressed: suppressed.size,
      duplicates,
    };
    const written = await write(tx, {
      projectId,
      content,
      variables: shared,
      tags: input.tags ?? {},
      recipients,
      counts,
    });
    outboxIds = written.outboxIds;
    const id = written.id;
    return { id, channel: "email", status: "queued", recipients: counts };
  });

  if (!replayed) {
    await Outbox.publishSoon(outboxIds);
    Log.count("EmailsAccepted", response.recipients.accepted);
    Log.count("EmailsSuppressed", response.recipients.suppressed);
  }
  return response;
}

export interface DeliverOptions {
  mailer: Mailer;
  /** Resolves when the next send fits the account's sending rate. */
  pace: () => Promise<void>;
  /** How long a sender owns the deliveries it leases; under the queue's visibility timeout. */
  leaseMs: number;
  /** The queue message's last receive: what cannot be sent now is marked failed. */
  lastReceive: boolean;
  /** Sends in flight at once. */
  concurrency?: number;
  /** Tries per send for transient errors, with exponential backoff. */
  tries?: number;
}

/** An OTP message whose code may no longer be issued. */
class OtpGone extends Error {}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function sendWithRetries(
  mailer: Mailer,
  email: Parameters<Mailer["send"]>[0],
  tries: number,
) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await mailer.send(email);
    } catch (error) {
      const permanent = error instanceof SendError && error.permanent;
      if (permanent || attempt >= tries) throw error;
      await sleep(100 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}

/**
 * Sends the deliveries of one queue message. Leased ones are rendered and sent; each is recorded
 * `sent` (with the provider's id) or `failed` as soon as SES answers. Returns `retry: true` when a
 * transient error left some for the message's next receive; on the last receive those are marked
 * failed, and `retry` still sends the message on to the DLQ, where an operator sees the outage.
 */
export async function deliver(
  deliveryIds: string[],
  options: DeliverOptions,
): Promise<{ retry: boolean }> {
  const leased = await Delivery.lease(deliveryIds, options.leaseMs);
  if (leased.length === 0) return { retry: false };
  const notificationIds = [...new Set(leased.map((row) => row.notificationId))];
  const rows = await Database.use()
    .select()
    .from(notifications)
    .where(inArray(notifications.id, notificationIds));
  const byId = new Map(
    await Promise.all(
      rows.map(async (row) => {
        const content = row.content as Content;
        return [
          row.id,
          { row, content, compiled: Template.compile(await sourceOf(content)) },
        ] as const;
      }),
    ),
  );

  const outboxIds: number[] = [];
  let retry = false;
  const queue = [...leased];
  const worker = async () => {
    for (let delivery = queue.shift(); delivery; delivery = queue.shift()) {
      const { row, content, compiled } = byId.get(delivery.notificationId)!;
      let outboxId: number | undefined;
      try {
        const variables = {
          ...(row.variables as Template.Variables),
          ...(delivery.variables as Template.Variables),
        };
        if (content.otp) {
          const code = await issueCode(content.otp.id);
          // Expired, used or canceled before its message was sent: nothing to send.
          if (code === undefined) throw new OtpGone();
          variables.code = code;
        }
        const rendered = Template.render(compiled, variables);
        await options.pace();
        const { messageId } = await sendWithRetries(
          options.mailer,
          {
            from: content.from,
            to: formatAddress(delivery.address, delivery.name),
            replyTo: content.replyTo ?? undefined,
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            tags: [{ name: "delivery_id", value: delivery.id }],
          },
          options.tries ?? 3,
        );
        outboxId = await Delivery.markSent(delivery.id, messageId);
        Log.count("EmailsSent");
        Log.metrics().addMetric(
          "SendLatency",
          Log.MetricUnit.Milliseconds,
          Date.now() - delivery.createdAt.getTime(),
        );
      } catch (error) {
        if (error instanceof OtpGone) {
          outboxId = await Delivery.markExpired(delivery.id);
          if (outboxId !== undefined) outboxIds.push(outboxId);
          continue;
        }
        const permanent =
          error instanceof AppError || (error instanceof SendError && error.permanent);
        const reason = error instanceof Error ? error.message : String(error);
        if (!permanent) retry = true;
        if (permanent) {
          outboxId = await Delivery.markFailed(delivery.id, reason);
          Log.count("EmailsFailed");
        } else if (options.lastReceive) {
          outboxId = await Delivery.markFailed(delivery.id, `${Delivery.gaveUp}${reason}`);
          Log.count("EmailsFailed");
        } else {
          await Delivery.release(delivery.id);
        }
        // The reason stays in the delivery row: provider messages may quote the address.
        Log.logger.warn("email delivery failed", { deliveryId: delivery.id, permanent });
      }
      if (outboxId !== undefined) outboxIds.push(outboxId);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  await Outbox.publishSoon(outboxIds);
  return { retry };
}

/** Last receive of a message whose processing keeps failing: fails what is still pending. */
export async function abandon(deliveryIds: string[], reason: string): Promise<void> {
  for (const row of await Delivery.lease(deliveryIds, 60_000)) {
    await Delivery.markFailed(row.id, `${Delivery.gaveUp}${reason}`);
  }
}
