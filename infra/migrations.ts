// Migrations on every deploy: the Migrator function applies what is pending (drizzle records what
// ran in __drizzle_migrations, so a second run is a no-op), invoked by the deploy itself whenever
// the migrations folder changes. A failed migration fails the deploy.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
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

// `sst dev` links the local stack's Postgres, which `npm start` migrates itself.
if (!$dev) {
  new aws.lambda.Invocation("Migrate", {
    functionName: migrator.name,
    input: JSON.stringify({}),
    triggers: { migrations: hashFolder(folder), code: migrator.nodes.function.sourceCodeHash },
  });
}
