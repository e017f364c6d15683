import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Database } from "@pregon/core";
import { loadLambdaConfig } from "./config";

/** Beside the bundle on Lambda (`copyFiles` in infra/settings.ts); core's own folder from source. */
const bundled = fileURLToPath(new URL("./migrations", import.meta.url));
export const migrationsFolder = existsSync(bundled) ? bundled : Database.migrationsFolder;

const { databaseUrl } = loadLambdaConfig();

/**
 * Applies the pending migrations; invoked by every deploy (infra/migrations.ts). Drizzle records
 * what ran, so with nothing pending it changes nothing. A failure fails the deploy.
 */
export async function handler(): Promise<{ migrationsFolder: string }> {
  await Database.migrate(databaseUrl, migrationsFolder);
  return { migrationsFolder };
}
