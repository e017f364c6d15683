import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { and, desc, eq, inArray, lt, ne, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Fact from "../fact";
import * as Fetch from "../fetch";
import * as Outbox from "../outbox";
import { webhookAttempts, webhookEndpoints, webhookMessages } from "./webhook.sql";

/**
 * Outbound webhooks (Standard Webhooks): a project's endpoints receive its facts, signed with a
 * secret of theirs, each fact once per endpoint, retried with backoff until a 2xx comes back or the
 * attempts run out.
 */

export interface Settings {
  /** Derives the key that encrypts the signing secrets at rest. */
  encryptionSecret: string;
  /** Loopback and plain HTTP allowed (the local stack only); link-local and metadata never. */
  allowLoopback: boolean;
  /** How long a receiver has to answer with a 2xx. */
  timeoutMs: number;
  /** The retry schedule: the wait after attempt n is min(first * factor^(n-1), max), plus jitter. */
  retry: { firstDelaySeconds: number; factor: number; maxDelaySeconds: number; jitter: number };
  /** An endpoint whose attempts have all failed for this long is disabled. */
  disableAfterMs: number;
  /** How long the secret a rotation replaced keeps signing. */
  rotationOverlapMs: number;
}

/** About 28 hours over the queue's 10 attempts. */
export const defaultRetry: Settings["retry"] = {
  firstDelaySeconds: 5,
  factor: 4,
  maxDelaySeconds: 10 * 60 * 60,
  jitter: 0.2,
};

const defaults: Omit<Settings, "encryptionSecret"> = {
  allowLoopback: false,
  timeoutMs: 10_000,
  retry: defaultRetry,
  disableAfterMs: 5 * 24 * 60 * 60_000,
  rotationOverlapMs: 24 * 60 * 60_000,
};
let settings: Settings | undefined;
let encryptionKey: Buffer | undefined;

/** Entry points that deliver or manage webhooks set this once at start. */
export function configure(changes: Partial<Settings> & { encryptionSecret: string }): void {
  settings = { ...defaults, ...changes };
  encryptionKey = Buffer.from(
    hkdfSync("sha256", changes.encryptionSecret, "", "pregon webhook signing secrets", 32),
  );
}

function use(): Settings {
  if (!settings) throw new Error("Webhooks not configured: call Webhook.configure() at start");
  return settings;
}

/** At most this much of a receiver's answer is read and kept. */
const excerptBytes = 256;

/** Seconds to wait before attempt `attempt + 1` (attempt counts from 1), with jitter. */
export function retryDelaySeconds(attempt: number, retry = use().retry): number {
  const base = Math.min(
    retry.firstDelaySeconds * retry.factor ** (attempt - 1),
    retry.maxDelaySeconds,
  );
  return Math.round(base * (1 + Math.random() * retry.jitter));
}

// Secrets: 24 random bytes, base64, after the Standard Webhooks prefix.
const secretPrefix = "whsec_";
const newSecret = () => `${secretPrefix}${randomBytes(24).toString("base64")}`;

function encrypt(secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKeyOf(), iv);
  const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64");
}

function decrypt(stored: string): string {
  const raw = Buffer.from(stored, "base64");
  const decipher = createDecipheriv("aes-256-gcm", encryptionKeyOf(), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

function encryptionKeyOf(): Buffer {
  use();
  return encryptionKey!;
}

/** The `v1,` signature of `payload` as Standard Webhooks defines it. */
export function sign(secret: string, id: string, timestamp: number, payload: string): string {
  const key = Buffer.from(secret.slice(secretPrefix.length), "base64");
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${payload}`).digest("base64");
  return `v1,${mac}`;
}

// ---- Endpoints ----

/** Fact types a filter may name: those defined, and any a later version defines. */
const EventType = z
  .string()
  .regex(/^[a-z]+(\.[a-z_]+)+$/, "must be a fact type such as delivery.bounced")
  .max(100);

const Url = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .meta({ description: "Where facts are POSTed: HTTPS to a public address" });

export const Endpoint = z.object({
  id: z.uuid(),
  projectId: z.uuid(),
  url: z.string(),
  description: z.string(),
  eventTypes: z
    .array(z.string())
    .meta({ description: "The fact types delivered; empty: every type" }),
  status: z.enum(["enabled", "disabled"]),
  disabledReason: z
    .string()
    .nullable()
    .meta({ description: "Why it is disabled: `by_caller` or `failing`" }),
  failingSince: z.iso
    .datetime()
    .nullable()
    .meta({ description: "Since when every attempt has failed; null after a success" }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Endpoint = z.infer<typeof Endpoint>;

export const EndpointWithSecret = Endpoint.extend({
  secret: z.string().meta({
    description: "The signing secret (`whsec_…`): shown now, never again",
  }),
});
export type EndpointWithSecret = z.infer<typeof EndpointWithSecret>;

export const CreateInput = z.strictObject({
  url: Url,
  description: z.string().trim().max(500).default(""),
  eventTypes: z.array(EventType).max(100).default([]).meta({
    description: "The fact types to deliver (`delivery.bounced`, `otp.locked`…); empty: every type",
  }),
});
export type CreateInput = z.input<typeof CreateInput>;

export const UpdateInput = z.strictObject({
  id: z.uuid(),
  url: Url.optional(),
  description: z.string().trim().max(500).optional(),
  eventTypes: z.array(EventType).max(100).optional(),
  status: z.enum(["enabled", "disabled"]).optional().meta({
    description: "`disabled` stops deliveries; `enabled` resumes them (the failures forgotten)",
  }),
});
export type UpdateInput = z.input<typeof UpdateInput>;

const EndpointData = z.object({
  endpointId: z.uuid().meta({ description: "The webhook endpoint" }),
});

export const facts = {
  created: Fact.define("webhook.created", {
    version: 1,
    subject: "endpointId",
    data: EndpointData,
  }),
  deleted: Fact.define("webhook.deleted", {
    version: 1,
    subject: "endpointId",
    data: EndpointData,
  }),
  secretRotated: Fact.define("webhook.secret_rotated", {
    version: 1,
    subject: "endpointId",
    data: EndpointData,
  }),
  disabled: Fact.define("webhook.disabled", {
    version: 1,
    subject: "endpointId",
    data: EndpointData.extend({
      disabledReason: z.enum(["by_caller", "failing"]).meta({
        description: "`by_caller`, or `failing`: every attempt failed for days",
      }),
    }),
  }),
};

type EndpointRow = typeof webhookEndpoints.$inferSelect;

function toEndpoint(row: EndpointRow): Endpoint {
  return {
    id: row.id,
    projectId: row.projectId,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes,
    status: row.status as Endpoint["status"],
    disabledReason: row.disabledReason,
    failingSince: row.failingSince?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Refuses a URL the sender would not deliver to, when it is given rather than at send time. */
async function assertDeliverable(url: string) {
  try {
    await Fetch.check(url, rules());
  } catch (error) {
    if (!(error instanceof Fetch.UnsafeUrl)) throw error;
    throw new AppError("invalid_input", `url: ${error.message}`);
  }
}

function rules(): Fetch.Rules {
  const { allowLoopback, timeoutMs } = use();
  return { allowLoopback, timeoutMs, maxBytes: excerptBytes, truncate: true };
}

/** Creates an endpoint of the actor's project; its secret is in the answer, and only there. */
export async function create(input: CreateInput): Promise<EndpointWithSecret> {
  const projectId = Actor.projectId();
  const parsed = CreateInput.parse(input);
  await assertDeliverable(parsed.url);
  const secret = newSecret();
  const now = Clock.now();
  const row = await Database.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        projectId,
        url: parsed.url,
        description: parsed.description,
        eventTypes: [...new Set(parsed.eventTypes)],
        secret: encrypt(secret),
        status: "enabled",
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await Fact.emit(facts.created, projectId, { endpointId: row!.id });
    return row!;
  });
  return { ...toEndpoint(row), secret };
}

async function find(id: string): Promise<EndpointRow> {
  const [row] = await Database.use()
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.projectId, Actor.projectId())));
  if (!row) throw new AppError("not_found", "No such webhook endpoint");
  return row;
}

export async function get(id: string): Promise<Endpoint> {
  return toEndpoint(await find(id));
}

/** The actor's project's endpoints, oldest first. */
export async function list(): Promise<Endpoint[]> {
  const rows = await Database.use()
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.projectId, Actor.projectId()))
    .orderBy(webhookEndpoints.createdAt, webhookEndpoints.id);
  return rows.map(toEndpoint);
}

/** Changes an endpoint; disabling it is a fact, enabling it forgets its failures. */
export async function update(input: UpdateInput): Promise<Endpoint> {
  const parsed = UpdateInput.parse(input);
  const before = await find(parsed.id);
  if (parsed.url !== undefined) await assertDeliverable(parsed.url);
  const disabling = parsed.status === "disabled" && before.status !== "disabled";
  const enabling = parsed.status === "enabled" && before.status !== "enabled";
  return Database.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        ...(parsed.url !== undefined && { url: parsed.url }),
        ...(parsed.description !== undefined && { description: parsed.description }),
        ...(parsed.eventTypes !== undefined && { eventTypes: [...new Set(parsed.eventTypes)] }),
        ...(disabling && { status: "disabled", disabledReason: "by_caller" }),
        ...(enabling && { status: "enabled", disabledReason: null, failingSince: null }),
        updatedAt: Clock.now(),
      })
      .where(eq(webhookEndpoints.id, before.id))
      .returning();
    if (disabling) {
      await Fact.emit(facts.disabled, before.projectId, {
        endpointId: before.id,
        disabledReason: "by_caller",
      });
    }
    return toEndpoint(row!);
  });
}

/** Deletes an endpoint, its messages and their attempts. */
export async function remove(id: string): Promise<Endpoint> {
  const row = await find(id);
  await Database.transaction(async (tx) => {
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, row.id));
    await Fact.emit(facts.deleted, row.projectId, { endpointId: row.id });
  });
  return toEndpoint(row);
}

/**
 * Gives an endpoint a new secret, shown in the answer only; the one it replaces keeps signing
 * beside it (two signatures per message) for the overlap, so receivers can switch without a gap.
 */
export async function rotateSecret(id: string): Promise<EndpointWithSecret> {
  const before = await find(id);
  const secret = newSecret();
  const now = Clock.now();
  return Database.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        secret: encrypt(secret),
        previousSecret: before.secret,
        previousSecretUntil: new Date(now.getTime() + use().rotationOverlapMs),
        updatedAt: now,
      })
      .where(eq(webhookEndpoints.id, before.id))
      .returning();
    await Fact.emit(facts.secretRotated, before.projectId, { endpointId: before.id });
    return { ...toEndpoint(row!), secret };
  });
}

// ---- Messages ----

/**
 * Makes one message per (fact, enabled endpoint that wants its type) of the published facts, and
 * queues each once it is committed. A fact handed over again makes none twice. Returns how many
 * were made.
 */
export async function fanOut(bodies: string[]): Promise<number> {
  const facts = bodies.flatMap((body) => {
    const parsed = Fact.Envelope.safeParse(JSON.parse(body));
    return parsed.success ? [{ fact: parsed.data, body }] : [];
  });
  if (facts.length === 0) return 0;
  const endpoints = await Database.use()
    .select({
      id: webhookEndpoints.id,
      projectId: webhookEndpoints.projectId,
      eventTypes: webhookEndpoints.eventTypes,
    })
    .from(webhookEndpoints)
    .where(
      and(
        inArray(webhookEndpoints.projectId, [...new Set(facts.map(({ fact }) => fact.projectId))]),
        eq(webhookEndpoints.status, "enabled"),
      ),
    );
  const now = Clock.now();
  const rows = facts.flatMap(({ fact, body }) =>
    endpoints
      .filter(
        (endpoint) =>
          endpoint.projectId === fact.projectId &&
          (endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(fact.type)),
      )
      .map((endpoint) => ({
        projectId: fact.projectId,
        endpointId: endpoint.id,
        eventId: fact.id,
        eventType: fact.type,
        payload: body,
        status: "pending",
        attempts: 0,
        createdAt: now,
      })),
  );
  if (rows.length === 0) return 0;
  return Database.transaction(async (tx) => {
    const made = await tx
      .insert(webhookMessages)
      .values(rows)
      .onConflictDoNothing({ target: [webhookMessages.endpointId, webhookMessages.eventId] })
      .returning({ id: webhookMessages.id });
    await Outbox.add(
      made.map(({ id }) => ({
        topic: "webhooks" as const,
        body: JSON.stringify({ messageId: id }),
      })),
    );
    return made.length;
  });
}

/** What a queue message of the webhooks topic carries. */
export const QueueMessage = z.object({ messageId: z.uuid() });

export const Attempt = z.object({
  id: z.number().int(),
  messageId: z.uuid().meta({ description: "The message: its `webhook-id` is `msg_<messageId>`" }),
  eventId: z.uuid().meta({ description: "The fact delivered" }),
  eventType: z.string(),
  trigger: z.enum(["scheduled", "manual"]),
  status: z.enum(["succeeded", "failed"]),
  responseStatus: z.number().int().nullable(),
  responseExcerpt: z
    .string()
    .nullable()
    .meta({ description: `The first ${excerptBytes} bytes of the answer` }),
  error: z.string().nullable().meta({ description: "Why no answer counted (timeout, refused…)" }),
  latencyMs: z.number().int(),
  attemptedAt: z.iso.datetime(),
});
export type Attempt = z.infer<typeof Attempt>;

/** What an attempt came to, for the queue consumer. */
export type Outcome =
  /** Delivered, or nothing left to do (delivered before, endpoint gone or disabled). */
  | { done: true }
  /** Failed: try again after `retryAfterSeconds`. */
  | { done: false; retryAfterSeconds: number };

/** The headers of one attempt, signed with each secret that signs now. */
function headersOf(endpoint: EndpointRow, messageId: string, payload: string, now: Date) {
  const id = `msg_${messageId}`;
  const timestamp = Math.floor(now.getTime() / 1000);
  const secrets = [decrypt(endpoint.secret)];
  if (
    endpoint.previousSecret &&
    endpoint.previousSecretUntil &&
    endpoint.previousSecretUntil > now
  ) {
    secrets.push(decrypt(endpoint.previousSecret));
  }
  return {
    "content-type": "application/json",
    "user-agent": "Pregon-Webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((secret) => sign(secret, id, timestamp, payload)).join(" "),
  };
}

/** POSTs the payload once; what came back, never throwing for the receiver's sake. */
async function post(url: string, headers: Record<string, string>, payload: string) {
  const started = performance.now();
  try {
    const response = await Fetch.request(url, { method: "POST", headers, body: payload }, rules());
    const excerpt = (await response.text()).slice(0, excerptBytes);
    return {
      ok: response.status >= 200 && response.status < 300,
      responseStatus: response.status,
      responseExcerpt: excerpt || null,
      error: null,
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    // Refusals and deadlines explain themselves; a socket error is named by its code only (its
    // message may carry the address).
    const why =
      error instanceof Fetch.UnsafeUrl
        ? error.message
        : `connection failed (${(error as { code?: string }).code ?? "error"})`;
    return {
      ok: false,
      responseStatus: null,
      responseExcerpt: null,
      error: why,
      latencyMs: Math.round(performance.now() - started),
    };
  }
}

/**
 * One attempt to deliver message `messageId`, recorded. `final`: no attempt follows when it
 * fails, so the message is failed, and its endpoint disabled if it has failed for long enough.
 */
export async function attempt(
  messageId: string,
  options: { attempt: number; final: boolean; trigger?: "scheduled" | "manual" },
): Promise<Outcome> {
  const trigger = options.trigger ?? "scheduled";
  const [found] = await Database.use()
    .select({ message: webhookMessages, endpoint: webhookEndpoints })
    .from(webhookMessages)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookMessages.endpointId))
    .where(eq(webhookMessages.id, messageId));
  if (!found) return { done: true };
  const { message, endpoint } = found;
  if (trigger === "scheduled" && message.status !== "pending") return { done: true };
  if (endpoint.status !== "enabled") {
    await Database.use()
      .update(webhookMessages)
      .set({ status: "canceled" })
      .where(and(eq(webhookMessages.id, message.id), eq(webhookMessages.status, "pending")));
    return { done: true };
  }
  const now = Clock.now();
  const result = await post(
    endpoint.url,
    headersOf(endpoint, message.id, message.payload, now),
    message.payload,
  );
  const { ok, ...answer } = result;
  const attemptedAt = Clock.now();
  await Database.transaction(async (tx) => {
    await tx.insert(webhookAttempts).values({
      projectId: message.projectId,
      endpointId: endpoint.id,
      messageId: message.id,
      trigger,
      status: ok ? "succeeded" : "failed",
      ...answer,
      attemptedAt,
    });
    const status = ok ? "delivered" : options.final && trigger === "scheduled" ? "failed" : null;
    await tx
      .update(webhookMessages)
      .set({
        attempts: sql`${webhookMessages.attempts} + 1`,
        ...(status && message.status !== "delivered" && { status }),
        ...(ok && { deliveredAt: attemptedAt }),
      })
      .where(eq(webhookMessages.id, message.id));
    if (ok) {
      await tx
        .update(webhookEndpoints)
        .set({ failingSince: null })
        .where(eq(webhookEndpoints.id, endpoint.id));
      return;
    }
    const [failing] = await tx
      .update(webhookEndpoints)
      .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now.toISOString()})` })
      .where(eq(webhookEndpoints.id, endpoint.id))
      .returning({ failingSince: webhookEndpoints.failingSince });
    const failingFor = attemptedAt.getTime() - (failing?.failingSince ?? now).getTime();
    if (options.final && trigger === "scheduled" && failingFor >= use().disableAfterMs) {
      const disabled = await tx
        .update(webhookEndpoints)
        .set({ status: "disabled", disabledReason: "failing", updatedAt: attemptedAt })
        .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.status, "enabled")))
        .returning({ id: webhookEndpoints.id });
      if (disabled.length > 0) {
        await Fact.emit(facts.disabled, endpoint.projectId, {
          endpointId: endpoint.id,
          disabledReason: "failing",
        });
      }
    }
  });
  return ok
    ? { done: true }
    : { done: false, retryAfterSeconds: retryDelaySeconds(options.attempt) };
}

/**
 * Makes messages that ran out of attempts pending again (an operator's DLQ redrive sends them once
 * more, with a fresh schedule). Returns how many.
 */
export async function reopen(messageIds: string[]): Promise<number> {
  if (messageIds.length === 0) return 0;
  const reopened = await Database.use()
    .update(webhookMessages)
    .set({ status: "pending" })
    .where(and(inArray(webhookMessages.id, messageIds), eq(webhookMessages.status, "failed")))
    .returning({ id: webhookMessages.id });
  return reopened.length;
}

/** How long a settled message (delivered, failed, canceled) and its attempts are kept. */
export const retentionMs = 30 * 24 * 60 * 60 * 1000;

/** Sweeper: deletes settled messages older than `olderThanMs`, and their attempts; returns how many. */
export async function purge(olderThanMs = retentionMs): Promise<number> {
  const before = new Date(Clock.now().getTime() - olderThanMs);
  const rows = await Database.use()
    .delete(webhookMessages)
    .where(and(lt(webhookMessages.createdAt, before), ne(webhookMessages.status, "pending")))
    .returning({ id: webhookMessages.id });
  return rows.length;
}

/** Sends one message of the actor's project again, now, whatever its status; the attempt is listed. */
export async function replay(endpointId: string, messageId: string): Promise<Attempt> {
  const endpoint = await find(endpointId);
  if (endpoint.status !== "enabled") {
    throw new AppError("invalid_input", "This webhook endpoint is disabled: enable it first");
  }
  const [message] = await Database.use()
    .select({ id: webhookMessages.id, attempts: webhookMessages.attempts })
    .from(webhookMessages)
    .where(and(eq(webhookMessages.id, messageId), eq(webhookMessages.endpointId, endpoint.id)));
  if (!message) throw new AppError("not_found", "No such message for this webhook endpoint");
  await attempt(message.id, { attempt: message.attempts + 1, final: false, trigger: "manual" });
  const { attempts } = await listAttempts({ id: endpoint.id, messageId: message.id, limit: 1 });
  return attempts[0]!;
}

/** A page of an endpoint's attempts, newest first, before id `cursor`. */
export async function listAttempts(filters: {
  id: string;
  messageId?: string | undefined;
  cursor?: number | undefined;
  limit: number;
}): Promise<{ attempts: Attempt[]; nextCursor: number | null }> {
  const endpoint = await find(filters.id);
  const rows = await Database.use()
    .select({
      attempt: webhookAttempts,
      eventId: webhookMessages.eventId,
      eventType: webhookMessages.eventType,
    })
    .from(webhookAttempts)
    .innerJoin(webhookMessages, eq(webhookMessages.id, webhookAttempts.messageId))
    .where(
      and(
        eq(webhookAttempts.endpointId, endpoint.id),
        filters.messageId ? eq(webhookAttempts.messageId, filters.messageId) : undefined,
        filters.cursor !== undefined ? lt(webhookAttempts.id, filters.cursor) : undefined,
      ),
    )
    .orderBy(desc(webhookAttempts.id))
    .limit(filters.limit + 1);
  const { items, nextCursor } = Database.page(rows, filters.limit, (row) => row.attempt.id);
  return {
    attempts: items.map(({ attempt: a, eventId, eventType }) => ({
      id: a.id,
      messageId: a.messageId,
      eventId,
      eventType,
      trigger: a.trigger as Attempt["trigger"],
      status: a.status as Attempt["status"],
      responseStatus: a.responseStatus,
      responseExcerpt: a.responseExcerpt,
      error: a.error,
      latencyMs: a.latencyMs,
      attemptedAt: a.attemptedAt.toISOString(),
    })),
    nextCursor,
  };
}
