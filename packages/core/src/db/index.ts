import { AsyncLocalStorage } from "node:async_hooks";
import { type SQL, sql } from "drizzle-orm";
import type postgres from "postgres";
import { z } from "zod";
import * as Log from "../log";
import { connect, type Db, type Options, type Tx } from "./connect";

export type { Db, Options, Tx } from "./connect";
export * from "./credentials";

let current: { url: string; client: postgres.Sql; db: Db } | undefined;

type Effect = () => Promise<unknown>;

/** The transaction open in this async context. */
const transactions = new AsyncLocalStorage<Tx>();
/** Where the effects of work that commits here wait: the outermost transaction's, or a batch's. */
const scopes = new AsyncLocalStorage<Effect[]>();

/**
 * Opens the process's pool. Entry points call this once at start; a second call for the same
 * database is a no-op, for another database an error (two entry points disagree on config).
 */
export function configure(options: Options): void {
  if (current) {
    if (current.url === options.url) return;
    throw new Error("Database already configured for another URL");
  }
  current = connect(options);
}

/**
 * Where a query runs: inside `transaction`, in that transaction (a Lambda's single connection is
 * held by it, so a query on the pool there would wait for ever); elsewhere, on the pool.
 */
export function use(): Db {
  const tx = transactions.getStore();
  if (tx) return tx;
  if (!current) throw new Error("Database not configured: call Database.configure() at start");
  return current.db;
}

/** Runs an effect of committed work; one that fails is logged, and its work is the sweeper's. */
async function run(effect: Effect): Promise<void> {
  try {
    await effect();
  } catch (error) {
    Log.logger.error("after-commit effect failed", { error });
  }
}

/**
 * A read a module owns, to run beside other modules' reads in one statement (`readTogether`): a
 * query that yields one value (a scalar subquery), and what that value means.
 */
export interface Read<T> {
  sql: SQL;
  parse: (value: unknown) => T;
}

/** What `readTogether` gives for its reads: each read's parsed value, under the read's name. */
type ReadValues<R> = { [K in keyof R]: R[K] extends Read<infer T> ? T : never };

/**
 * Runs reads of several modules as one `select`, one round trip instead of one each, and gives
 * each its value. Outside a transaction every read sees the same snapshot.
 */
export async function readTogether<R extends Record<string, Read<unknown>>>(
  reads: R,
): Promise<ReadValues<R>> {
  const entries = Object.entries(reads);
  const columns = entries.map(([, read], i) => sql`(${read.sql}) as ${sql.identifier(`r${i}`)}`);
  const [row] = await use().execute<Record<string, unknown>>(
    sql`select ${sql.join(columns, sql`, `)}`,
  );
  return Object.fromEntries(
    entries.map(([name, read], i) => [name, read.parse(row?.[`r${i}`])]),
  ) as ReadValues<R>;
}

/**
 * Waits for statements started together (postgres.js sends them in one write, and in a
 * transaction Postgres runs them one after another): all of them settle before it returns, so none
 * is still running when the transaction around them ends; then the first failure, in the given
 * order, is thrown.
 */
export async function together(work: Array<Promise<unknown> | undefined>): Promise<void> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * Runs `fn` in a transaction: the one already open here (its writes commit or roll back with the
 * caller's), else a new one. Effects registered with `afterCommit` inside it run once the
 * outermost transaction has committed, together, before this returns (on Lambda the process may
 * freeze as soon as a response is sent), or when the batch around it ends; none runs if it rolls
 * back. An effect that fails does not fail the caller, whose writes are committed.
 */
export async function transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  const open = transactions.getStore();
  if (open) return fn(open);
  if (!current) throw new Error("Database not configured: call Database.configure() at start");
  const batch = scopes.getStore();
  const effects: Effect[] = [];
  const result = await current.db.transaction((tx) =>
    scopes.run(effects, () => transactions.run(tx, () => fn(tx))),
  );
  if (batch) batch.push(...effects);
  else await Promise.all(effects.map(run));
  return result;
}

/**
 * Runs `fn`, work of many short transactions and statements (a sender's queue message), holding
 * the effects of what commits inside it until it ends, then running them together: their
 * publishes become one. Inside a transaction or another batch it only runs `fn`.
 */
export async function batch<T>(fn: () => Promise<T>): Promise<T> {
  if (scopes.getStore()) return fn();
  const effects: Effect[] = [];
  try {
    return await scopes.run(effects, fn);
  } finally {
    await Promise.all(effects.map(run));
  }
}

/**
 * Runs `effect` once what was just written here is committed: after the outermost transaction
 * open here, at the end of the batch around it, or, outside both (a statement that committed on
 * its own), now.
 */
export async function afterCommit(effect: Effect): Promise<void> {
  const scope = scopes.getStore();
  if (scope) scope.push(effect);
  else await run(effect);
}

/**
 * One `write` for what concurrent callers hand in: the first items start a write as soon as the
 * one under way (if any) is over, and what arrives before it starts joins it. Each caller's promise
 * settles as the write that carried its items does. The write runs in the first caller's context.
 */
export function grouped<T, R>(write: (items: T[]) => Promise<R>): (items: T[]) => Promise<R> {
  let next: { items: T[]; done: Promise<R> } | undefined;
  let previous: Promise<unknown> = Promise.resolve();
  return (items) => {
    if (!next) {
      const gathered: T[] = [];
      const done = previous.then(() => {
        // From here on, items join the write after this one.
        if (next?.items === gathered) next = undefined;
        return write(gathered);
      });
      previous = done.catch(() => {});
      next = { items: gathered, done };
    }
    next.items.push(...items);
    return next.done;
  };
}

export async function close(): Promise<void> {
  const closing = current;
  current = undefined;
  readiness = undefined;
  await closing?.client.end({ timeout: 5 });
}

/** Failures that mean Postgres cannot be reached or cannot serve now (not a bad query). */
const unavailableCodes = new Set([
  "DATABASE_DEADLINE", // socket.ts: no answer in time
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down)
  "53300", // too_many_connections
]);

/**
 * The code by which `error` (or what caused it: Drizzle wraps driver errors) says the database is
 * unavailable, or undefined when it says something else.
 */
export function unavailable(error: unknown): string | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    // Class 08: connection exceptions.
    if (typeof code === "string" && (unavailableCodes.has(code) || /^08...$/.test(code))) {
      return code;
    }
    cause = cause.cause;
  }
  return undefined;
}

let readiness: { answer: Promise<boolean>; settledAt?: number } | undefined;

/**
 * Whether Postgres answers now. One check at a time, and its answer is kept for `cacheMs` after it
 * came, so callers (a readiness probe, anyone on the internet) cannot load the database with it.
 */
export function ready(cacheMs = 1_000): Promise<boolean> {
  const now = performance.now();
  const { settledAt } = readiness ?? {};
  if (!readiness || (settledAt !== undefined && now - settledAt >= cacheMs)) {
    const check: NonNullable<typeof readiness> = {
      answer: use()
        .execute(sql`select 1`)
        .then(
          () => true,
          () => false,
        )
        .finally(() => {
          check.settledAt = performance.now();
        }),
    };
    readiness = check;
  }
  return readiness.answer;
}

const Uuid = z.uuid();

/** Ids are UUIDs; anything else names no row (and must not reach Postgres as a uuid). */
export const isUuid = (value: string) => Uuid.safeParse(value).success;

/**
 * Cursor pagination: queries fetch `limit + 1` rows; this keeps `limit` and gives the cursor of the
 * next page (the last row's), or null when the extra row was not there.
 */
export function page<T, C>(rows: T[], limit: number, cursorOf: (row: T) => C) {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? cursorOf(items.at(-1)!) : null };
}
