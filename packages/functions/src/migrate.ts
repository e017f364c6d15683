import { join } from "node:path";
import { Database } from "@pregon/core";
import { loadLambdaConfig } from "./config";

/**
 * On Lambda, `copyFiles` (infra/settings.ts) puts the migrations at the package root, whatever
 * folder the bundle sits in; from source, core's own folder.
 */
export const migrationsFolder = process.env.LAMBDA_TASK_ROOT
  ? join(process.env.LAMBDA_TASK_ROOT, "migrations")
  : Database.migrationsFolder;

const { databaseUrl } = loadLambdaConfig();

/**
 * Applies the pending migrations; invoked by every deploy (infra/migrations.ts). Drizzle records
 * what ran, so with nothing pending it changes nothing. A failure fails the deploy.
 */
export async function handler(): Promise<{ migrationsFolder: string }> {
  await Database.migrate(databaseUrl, migrationsFolder);
  return { migrationsFolder };
}
