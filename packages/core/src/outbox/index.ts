import { and, asc, isNotNull, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { Channel } from "../channel";
import * as Clock from "../clock";
import * as Database from "../db";
import { outbox } from "./outbox.sql";

/** The SNS topics Pregón publishes to: one per channel, the facts', and webhook messages. */
export type Topic = Channel | "events" | "webhooks";

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

/**
 * Writes messages in the current transaction (or on their own) and publishes them once that has
 * committed (see `Database.afterCommit`). If the publish fails, or the process dies first, the
 * sweeper publishes them a minute later; a process with no publisher (the CLI) leaves them to it.
 */
export async function add(messages: Message[]): Promise<void> {
  if (messages.length === 0) return;
  // The messages as one parameter, in one statement whatever their count: a VALUES row each would
  // bind three parameters a row (600 for a 10,000-recipient send), built and sent one by one, and
  // a statement whose text changes with the count cannot stay prepared.
  const rows = await Database.use().execute<{ id: number }>(sql`
    insert into ${outbox} (topic, body, created_at)
    select m.topic, m.body, ${Clock.now().toISOString()}
    from json_to_recordset(${JSON.stringify(messages)}::json) as m(topic text, body text)
    returning id`);
  await Database.afterCommit(() => publishCommitted(rows.map((row) => Number(row.id))));
}

/**
 * Runs a statement that changes rows and writes, in the same statement, one message of `topic`
 * for each row it changed: `change` is the data-modifying statement (its RETURNING columns are
 * the rows `changed`), `body` the message of one `changed` row, `where` which rows get one. The
 * messages are published like `add`'s. Returns the changed rows.
 */
export async function addFrom<T extends Record<string, unknown>>(statement: {
  change: SQL;
  topic: Topic;
  body: SQL;
  where?: SQL;
}): Promise<T[]> {
  const { change, topic, body, where } = statement;
  const rows = await Database.use().execute<T & { outbox_ids: number[] | null }>(sql`
    with changed as (${change}), written as (${insertFrom({ topic, body, from: sql`changed`, where })})
    select changed.*, (select array_agg(id) from written) as outbox_ids from changed`);
  await written(rows[0]?.outbox_ids ?? null);
  return rows.map(({ outbox_ids: _, ...row }) => row as unknown as T);
}

/**
 * For a statement `addFrom` cannot express (one with CTEs of its own): the INSERT, for its WITH
 * list, of one message of `topic` for each row of `from` (`where` which rows get one), `body`
 * the message of one row, returning the messages' ids. The statement selects
 * `array_agg(id)` of it and hands that to `written`.
 */
export function insertFrom(statement: {
  topic: Topic;
  body: SQL;
  from: SQL;
  where?: SQL | undefined;
}): SQL {
  const { topic, body, from, where } = statement;
  return sql`insert into ${outbox} (topic, body, created_at)
    select ${topic}, ${body}, ${Clock.now().toISOString()} from ${from}
    ${where ? sql`where ${where}` : sql``}
    returning id`;
}

/** Publishes, like `add`'s, the messages a statement wrote with `insertFrom` (their ids, or null). */
export async function written(ids: number[] | null): Promise<void> {
  if (ids?.length) await Database.afterCommit(() => publishCommitted(ids));
}

/**
 * Publishes rows just committed, together with those other transactions of this process committed
 * meanwhile: concurrent sends or settles share one publish instead of one each. Resolves once the
 * publish that carried them is over.
 */
const publishGrouped = Database.grouped(publish);

/** A process with no publisher (the CLI) leaves committed rows to the sweeper. */
function publishCommitted(ids: number[]): Promise<unknown> {
  if (!publisher) return Promise.resolve();
  return publishGrouped(ids);
}

/**
 * Rows by id, the ids as one parameter: `inArray` binds one parameter each, whose building costs
 * the API tens of milliseconds for a 10,000-recipient send's 200 rows.
 */
const among = (ids: number[]) =>
  sql`${outbox.id} in (select json_array_elements_text(${JSON.stringify(ids)}::json)::bigint)`;

/**
 * Publishes the given rows that are still unpublished and marks them. Rows another publisher holds
 * are skipped (it publishes them); on an SNS error the rows stay for the sweeper.
 */
async function publish(ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return Database.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(outbox)
      .where(and(among(ids), isNull(outbox.publishedAt)))
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
        .where(among(rows.map((row) => row.id)));
    }
    return rows.length;
  });
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
    await Database.use().update(outbox).set({ publishedAt: null }).where(among(some));
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
