// Migrations on deploy: the Migrator function applies what is pending (drizzle records what ran in
// __drizzle_migrations, so a second run is a no-op), invoked by the deploy itself. A failed
// migration fails the deploy.
//
// When: whenever the Migrator's code changes (codeSha256: its zip, migrations included), the
// migrations folder changes, the database instance is a new one (resourceId), or the application
// role's password changed (the Migrator sets it). And only once the database can be reached
// through the proxy: the invocation depends on the Postgres component, which waits for every
// resource it made (instance, proxy, target group and the proxy target).
//
// Every other function waits for it (infra/api.ts, infra/senders.ts): new code never runs against
// the schema it was written for before the migrations that make it, nor before the application
// role it connects as exists.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { deployConfig } from "./config";
import { appPassword, database } from "./database";
import { functionArgs } from "./functions";
import { functions } from "./settings";

// copyFiles paths are relative to sst.config.ts, the app root.
const folder = join($cli.paths.root, functions.migrator.copyFiles[0].from);

/** A hash of every file under the folder, names and contents. */
function hashFolder(root: string): string {
  const hash = createHash("sha256");
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) hash.update(file.slice(root.length)).update(readFileSync(file));
  return hash.digest("hex");
}

export const migrator = new sst.aws.Function("Migrator", functionArgs("migrator"));

/**
 * The deploy's migration run: none under `sst dev` (`npm start` migrates the local Postgres), none
 * in a passive stage (its database is a read-only replica, migrated by the primary's).
 */
export const migrated =
  $dev || deployConfig.passive
    ? undefined
    : new aws.lambda.Invocation(
        "Migrate",
        {
          functionName: migrator.name,
          input: JSON.stringify({}),
          triggers: {
            code: migrator.nodes.function.codeSha256,
            migrations: hashFolder(folder),
            database: database.nodes.instance!.resourceId,
            appRole: $output(appPassword).apply((password) =>
              createHash("sha256").update(password).digest("hex"),
            ),
          },
        },
        { dependsOn: [database, migrator] },
      );

/** Resource options of a function that must run after the migrations. */
export const afterMigrations = { dependsOn: migrated ? [migrated] : [] };
