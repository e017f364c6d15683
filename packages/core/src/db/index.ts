import { fileURLToPath } from "node:url";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate as runMigrations } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { z } from "zod";
import type { Credentials } from "./credentials";
import { grantAppRole } from "./role";
import * as schema from "./schema";

export * from "./credentials";

export type Db = PostgresJsDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface Options {
  url: string;
  /** Pool size: 1 per Lambda behind RDS Proxy, more for a long-lived local server. */
  max?: number;
  /** Prepared statements; off behind RDS Proxy (transaction pooling pins on them). */
  prepare?: boolean;
}

let current: { url: string; client: postgres.Sql; db: Db } | undefined;

function connect({ url, max = 10, prepare = true }: Options) {
  const client = postgres(url, { max, prepare, onnotice: () => {} });
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

export function use(): Db {
  if (!current) throw new Error("Database not configured: call Database.configure() at start");
  return current.db;
}

export async function close(): Promise<void> {
  const closing = current;
  current = undefined;
  await closing?.client.end({ timeout: 5 });
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
  const { client, db } = connect({ url: ownerUrl, max: 1 });
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
