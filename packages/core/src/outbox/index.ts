import { and, asc, inArray, isNotNull, isNull, lt } from "drizzle-orm";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import * as Log from "../log";
import { outbox } from "./outbox.sql";

/** The SNS topics Pregón publishes to (DESIGN.md §1). */
export type Topic = "email" | "sms" | "push" | "events";

/** Port: publishes message bodies to a topic, all of them or throws. */
export interface Publisher {
  publish(topic: Topic, bodies: string[]): Promise<void>;
}

export interface Message {
  topic: Topic;
  body: string;
}

let publisher: Publisher | undefined;

/** Entry points set the publisher once at start. */
export function configure(value: Publisher): void {
  publisher = value;
}

function use(): Publisher {
  if (!publisher)
    throw new Error("Outbox publisher not configured: call Outbox.configure() at start");
  return publisher;
}

/** Writes messages in the caller's transaction; returns their ids for `publish` after commit. */
export async function add(tx: Database.Tx | Database.Db, messages: Message[]): Promise<number[]> {
  if (messages.length === 0) return [];
  const createdAt = Clock.now();
  const rows = await tx
    .insert(outbox)
    .values(messages.map((message) => ({ ...message, createdAt })))
    .returning({ id: outbox.id });
  return rows.map((row) => row.id);
}

/**
 * Publishes the given rows that are still unpublished and marks them. Rows another publisher holds
 * are skipped (it publishes them); on an SNS error the rows stay for the sweeper.
 */
export async function publish(ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return Database.use().transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(outbox)
      .where(and(inArray(outbox.id, ids), isNull(outbox.publishedAt)))
      .orderBy(asc(outbox.id))
      .for("update", { skipLocked: true });
    const byTopic = new Map<Topic, string[]>();
    for (const row of rows) {
      const topic = row.topic as Topic;
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), row.body]);
    }
    for (const [topic, bodies] of byTopic) await use().publish(topic, bodies);
    if (rows.length > 0) {
      await tx
        .update(outbox)
        .set({ publishedAt: Clock.now() })
        .where(
          inArray(
            outbox.id,
            rows.map((row) => row.id),
          ),
        );
    }
    return rows.length;
  });
}

/**
 * Publishes rows just committed, as soon as possible: a failure (or a process with no publisher,
 * like the CLI) leaves them to the sweeper, which is the guarantee; this is only the fast path.
 */
export async function publishSoon(ids: number[]): Promise<void> {
  if (!publisher || ids.length === 0) return;
  await publish(ids).catch((error) =>
    Log.logger.error("publish after commit failed; the sweeper will retry", { error }),
  );
}

/** A fact for the events topic: what happened, to what, when (ids only). */
export interface Fact {
  type: string;
  projectId: string;
  [id: string]: string | number;
}

/** Writes facts in the caller's transaction (publish the returned ids after the commit). */
export function announce(tx: Database.Tx | Database.Db, facts: Fact[]): Promise<number[]> {
  const at = Clock.now().toISOString();
  // The request's id and key go with every fact it causes (the fact's own keyId wins).
  const requestId = Actor.requestId();
  const keyId = Actor.keyId();
  return add(
    tx,
    facts.map((fact) => ({
      topic: "events",
      body: JSON.stringify({ requestId, keyId, ...fact, at }),
    })),
  );
}

/** Sweeper: publishes rows left unpublished for longer than `olderThanMs`; returns how many. */
export async function publishStale(olderThanMs: number, limit = 1000): Promise<number> {
  const before = new Date(Clock.now().getTime() - olderThanMs);
  let total = 0;
  for (;;) {
    const rows = await Database.use()
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(isNull(outbox.publishedAt), lt(outbox.createdAt, before)))
      .orderBy(asc(outbox.id))
      .limit(limit);
    if (rows.length === 0) return total;
    const published = await publish(rows.map((row) => row.id));
    total += published;
    if (published === 0) return total; // all held by someone else
  }
}

/**
 * Publishes rows again, published or not: for a queue that forgot messages it had taken (the local
 * emulator after a crash). Returns how many.
 */
export async function republish(ids: number[], chunk = 1000): Promise<number> {
  let total = 0;
  for (let i = 0; i < ids.length; i += chunk) {
    const some = ids.slice(i, i + chunk);
    await Database.use().update(outbox).set({ publishedAt: null }).where(inArray(outbox.id, some));
    total += await publish(some);
  }
  return total;
}

/** Sweeper: deletes published rows older than `olderThanMs`; returns how many. */
export async function purge(olderThanMs: number): Promise<number> {
  const before = new Date(Clock.now().getTime() - olderThanMs);
  const rows = await Database.use()
    .delete(outbox)
    .where(and(isNotNull(outbox.publishedAt), lt(outbox.publishedAt, before)))
    .returning({ id: outbox.id });
  return rows.length;
}
