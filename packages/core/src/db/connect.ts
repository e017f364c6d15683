import type { PgDatabase } from "drizzle-orm/pg-core";
import type { PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";
import { socketFactory, tlsModeOf } from "./socket";

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

/**
 * Statements with more parameters than this are not prepared: their text varies with a list's
 * length (rows inserted, ids matched), and a connection would keep one prepared statement per
 * length it ever saw, for its whole life.
 */
const preparedParameters = 64;

type Client = postgres.Sql | postgres.TransactionSql;

/**
 * `client` as Drizzle should use it: Drizzle runs every statement with postgres.js's `unsafe` and
 * `prepare: false`, whatever the client was opened with, and postgres.js answers a statement that
 * is not prepared and has parameters with two round trips (Parse and Describe, to learn the
 * parameters' types, then Bind and Execute), one after the other: statements sent together
 * (`Database.together`) then still go one by one. With `prepare`, statements of up to
 * `preparedParameters` parameters are prepared once per connection and then cost one round trip,
 * and several go in one write. A transaction's own client is wrapped alike.
 */
function preparing<C extends Client>(client: C): C {
  return new Proxy(client, {
    get(target, property) {
      if (property === "unsafe") {
        return (query: string, params: unknown[] = [], options: Record<string, unknown> = {}) =>
          target.unsafe(query, params as never, {
            ...options,
            prepare: params.length > 0 && params.length <= preparedParameters,
          });
      }
      if (property === "begin") {
        const open = Reflect.get(target, property) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          const fn = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return open(...args, (tx: postgres.TransactionSql) => fn(preparing(tx)));
        };
      }
      return Reflect.get(target, property);
    },
  });
}

/** Every query of the API and the consumers takes milliseconds; seconds mean a sick database. */
const defaultTimeoutMs = 5_000;

export function connect({
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
  return { url, client, db: drizzle(prepare ? preparing(client) : client, { schema }) };
}
