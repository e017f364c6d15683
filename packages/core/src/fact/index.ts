import { randomUUID } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import { Channel } from "../channel";
import * as Clock from "../clock";
import * as Outbox from "../outbox";

/**
 * Facts: what happened in Pregón, each of one type with a versioned, documented payload. They go
 * to the events topic (the audit log records them; webhooks will deliver them to customers), so
 * they carry ids, statuses, counts and HMACs, never addresses, names, content or codes.
 */

/** Who made a fact happen, as its payload names it. */
export const ActorRef = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("key"),
    keyId: z.uuid().meta({ description: "The API key the request was made with" }),
    requestId: z.string().meta({ description: "The request's X-Request-Id" }),
  }),
  z.object({
    type: z.literal("token"),
    issuer: z.string().meta({ description: "The token's issuer (`iss`)" }),
    subject: z
      .string()
      .meta({ description: "The token's subject (`sub`), as the issuer names it" }),
    requestId: z.string().meta({ description: "The request's X-Request-Id" }),
  }),
  z.object({
    type: z.literal("system"),
    reason: z.enum(Actor.systemReasons).meta({ description: "The part of Pregón that did it" }),
  }),
]);
export type ActorRef = z.infer<typeof ActorRef>;

/** A fact as published: the same envelope for every type, its `data` per type and version. */
export const Envelope = z.object({
  type: z.string().min(1).max(100),
  version: z.number().int().positive(),
  id: z.uuid(),
  occurredAt: z.iso.datetime(),
  projectId: z.uuid(),
  actor: ActorRef,
  subject: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof Envelope>;

/** Data fields several fact types carry: one meaning each, described once. */
export const fields = {
  channel: Channel.meta({ description: "The channel the message goes by" }),
  notificationId: z.uuid().meta({ description: "The send: one request, a message per recipient" }),
};

/** A fact type: its name, payload version, the field of its data it is about, and its data. */
export interface Definition<D extends z.ZodObject = z.ZodObject> {
  type: string;
  version: number;
  /** The data field naming what the fact is about (its `subject`), or null for none. */
  subject: (keyof z.infer<D> & string) | null;
  data: D;
}

const definitions = new Map<string, Definition>();

/** Defines a fact type; each module defines the facts it emits, once. */
export function define<D extends z.ZodObject>(
  type: string,
  definition: Omit<Definition<D>, "type">,
): Definition<D> {
  if (definitions.has(type)) throw new Error(`Fact type ${type} is defined twice`);
  const defined = { type, ...definition };
  definitions.set(type, defined);
  return defined;
}

/** Every fact type the modules loaded so far define (all of them, once core is imported). */
export const all = (): Definition[] => [...definitions.values()];

/** The current actor as a fact names it; a request not authenticated makes no facts. */
function actorRef(): ActorRef {
  const actor = Actor.use();
  if (actor.type === "key") return { type: "key", keyId: actor.keyId, requestId: actor.requestId };
  if (actor.type === "token") {
    return {
      type: "token",
      issuer: actor.issuer,
      subject: actor.subject,
      requestId: actor.requestId,
    };
  }
  if (actor.type === "system") return { type: "system", reason: actor.reason };
  throw new Error("A request not authenticated makes no facts");
}

/**
 * Writes a fact of `projectId` (checked against its definition) in the current transaction, or on
 * its own; it is published once that has committed.
 */
export async function emit<D extends z.ZodObject>(
  definition: Definition<D>,
  projectId: string,
  data: z.infer<D>,
): Promise<void> {
  const parsed = definition.data.parse(data) as Record<string, unknown>;
  const envelope: Envelope = {
    type: definition.type,
    version: definition.version,
    id: randomUUID(),
    occurredAt: Clock.now().toISOString(),
    projectId,
    actor: actorRef(),
    subject: definition.subject === null ? null : String(parsed[definition.subject]),
    data: parsed,
  };
  await Outbox.add([{ topic: "events", body: JSON.stringify(envelope) }]);
}

/** Each data field of a fact as a SQL expression: all of them, or it does not compile. */
export type Columns<D extends z.ZodObject> = { [K in keyof z.infer<D>]-?: SQL };

/**
 * The same envelope as `emit` writes, built by SQL from the rows a statement changes: the body of
 * the outbox messages of `Outbox.addFrom`, one fact per row. `projectId` and `data` are
 * expressions over those rows.
 */
export function sqlOf<D extends z.ZodObject>(
  definition: Definition<D>,
  projectId: SQL,
  data: Columns<D>,
): SQL {
  const columns = data as Record<string, SQL>;
  const fields = Object.keys(definition.data.shape).map(
    (field) => sql`${field}::text, ${columns[field]}`,
  );
  const subject = definition.subject === null ? sql`null` : sql`${columns[definition.subject]}`;
  return sql`json_build_object(
    'type', ${definition.type}::text, 'version', ${definition.version}::int,
    'id', gen_random_uuid(), 'occurredAt', ${Clock.now().toISOString()}::text,
    'projectId', ${projectId}, 'actor', ${JSON.stringify(actorRef())}::json,
    'subject', (${subject})::text, 'data', json_build_object(${sql.join(fields, sql`, `)}))::text`;
}
