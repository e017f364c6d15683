import { AsyncLocalStorage } from "node:async_hooks";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgDatabase } from "drizzle-orm/pg-core";
import { drizzle, type PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import { migrate as runMigrations } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { z } from "zod";
import * as Log from "../log";
import type { Credentials } from "./credentials";
import { grantAppRole } from "./role";
import * as schema from "./schema";
import { socketFactory, tlsModeOf } from "./socket";

export * from "./credentials";

/** What queries run on: the pool, or the transaction open around them. */
export type Db = PgDatabase<PostgresJsQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface Options {
  url: string;
  /** Pool size: 1 per Lambda behind RDS Proxy, more for a long-lived local server. */
  max?: number;
  /** Prepared statements; off behind RDS Proxy (transaction pooling pins on them). */
  prepare?: boolean;
  /**
   * How long Postgres may leave a query (or the startup) without an answer before its connection
   * is dropped and the query fails as unavailable; 0: no limit. postgres.js has no such deadline,
   * and a frozen server never fires its own `statement_timeout`.
   */
  queryTimeoutMs?: number;
  /** How long opening a connection (TCP, TLS, startup) may take. */
  connectTimeoutMs?: number;
}

/** Every query of the API and the consumers takes milliseconds; seconds mean a sick database. */
const defaultTimeoutMs = 5_000;

let current: { url: string; client: postgres.Sql; db: Db } | undefined;

type Effect = () => Promise<unknown>;

/** The transaction open in this async context. */
const transactions = new AsyncLocalStorage<Tx>();
/** Where the effects of work that commits here wait: the outermost transaction's, or a batch's. */
const scopes = new AsyncLocalStorage<Effect[]>();

function connect({
  url,
  max = 10,
  prepare = true,
  queryTimeoutMs = defaultTimeoutMs,
  connectTimeoutMs = defaultTimeoutMs,
}: Options) {
  // postgres.js documents `socket` (a function returning the socket to use); its types omit it.
  const custom = {
    socket: socketFactory({ tls: tlsModeOf(url), deadlineMs: queryTimeoutMs, connectTimeoutMs }),
  };
  const client = postgres(url, {
    max,
    prepare,
    onnotice: () => {},
    // TLS is negotiated by the socket factory, where the deadline can watch the protocol.
    ssl: false,
    ...custom,
    connect_timeout: connectTimeoutMs / 1000,
    // postgres.js waits up to 20 s before reconnecting after repeated failures; once Postgres is
    // back, requests should find it within half a second.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
  });
  return { url, client, db: drizzle(client, { schema }) };
}

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

export const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));

/**
 * Applies pending migrations as the database's owner (`ownerUrl`), on its own short-lived
 * connection, then gives the application role (`app`) its privileges on what they left: created
 * if missing, its password set, the grants applied again (db/role.ts). `folder`: where a Lambda
 * bundle carries the migrations (packages/functions/src/migrate.ts).
 */
export async function migrate(
  ownerUrl: string,
  app: Credentials,
  folder = migrationsFolder,
): Promise<void> {
  // A migration may rewrite a large table: no deadline on its statements.
  const { client, db } = connect({ url: ownerUrl, max: 1, queryTimeoutMs: 0 });
  try {
    await runMigrations(db, { migrationsFolder: folder });
    await grantAppRole(client, app);
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** Ids are UUIDs; anything else names no row (and must not reach Postgres as a uuid). */
export const isUuid = (value: string) => z.uuid().safeParse(value).success;

/**
 * Cursor pagination: queries fetch `limit + 1` rows; this keeps `limit` and gives the cursor of the
 * next page (the last row's), or null when the extra row was not there.
 */
export function page<T, C>(rows: T[], limit: number, cursorOf: (row: T) => C) {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? cursorOf(items.at(-1)!) : null };
}
