import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as Database from "@pregon/core/db";
import * as Migrations from "@pregon/core/db/migrations";
import postgres from "postgres";
import { loadLambdaConfig } from "./config";
import { lambdaHandler } from "./lambda";

/**
 * On Lambda, `copyFiles` (infra/settings.ts) puts the migrations at the package root, whatever
 * folder the bundle sits in; from source, core's own folder.
 */
export const migrationsFolder = process.env.LAMBDA_TASK_ROOT
  ? join(process.env.LAMBDA_TASK_ROOT, "migrations")
  : Migrations.folder;

// The Migrator connects as the owner (Resource.Database) and keeps the application role
// (Resource.AppDatabase) in step: created, its password set, its grants applied again.
const { databaseUrl, databaseOwnerUrl } = loadLambdaConfig();
if (!databaseOwnerUrl) {
  throw new Error(
    "Invalid configuration:\n  PREGON_DATABASE_OWNER_URL: not linked (Database) nor set",
  );
}
const ownerUrl = databaseOwnerUrl;
const app = Database.credentialsOf(databaseUrl);

/** How long the Migrator waits for the database, within its 300 s timeout. */
const reachWithinMs = 240_000;

/** Errors that waiting can cure: nothing listening yet, or a server not accepting connections yet. */
function transient(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string") return false;
  return (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "CONNECT_TIMEOUT"].includes(code) ||
    code.startsWith("08") || // SQLSTATE class 08: connection exception
    code === "57P03" // cannot_connect_now: starting up
  );
}

/**
 * Resolves once the database answers a query. On a first deploy the Migrator runs as soon as RDS
 * Proxy has registered its target, which accepts connections only a while later. A refused login
 * or any other error is thrown at once; a connection error once `withinMs` has passed.
 */
export async function waitForDatabase(url: string, withinMs = reachWithinMs): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (let delayMs = 500; ; delayMs = Math.min(delayMs * 2, 15_000)) {
    const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
    try {
      await sql`select 1`;
      return;
    } catch (error) {
      if (!transient(error) || Date.now() + delayMs > deadline) throw error;
    } finally {
      await sql.end({ timeout: 1 });
    }
    await sleep(delayMs);
  }
}

/**
 * Applies the pending migrations, then the application role's grants; invoked by the deploy
 * (infra/migrations.ts). Drizzle records what ran, so with nothing pending the schema stays as it
 * is. A failure fails the deploy.
 */
export const handler = lambdaHandler(async (): Promise<{ migrationsFolder: string }> => {
  await waitForDatabase(ownerUrl);
  await Migrations.apply(ownerUrl, app, migrationsFolder);
  return { migrationsFolder };
});
