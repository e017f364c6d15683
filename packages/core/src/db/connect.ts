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
  return { url, client, db: drizzle(client, { schema }) };
}
